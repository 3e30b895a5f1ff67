import Foundation
public import WritAPI
import WritPolicy
public import WritToken

/// A request to `POST /v1/token`, read from its form: who the workload is (its assertion, or the certificate it
/// came over), the task (named, or implicit), the audience, and what of the grant it asks for.
///
/// Three grants carry the workload's identity JWT: RFC 8693 token exchange (`actor_token`, or a `jwt`
/// `subject_token`), `client_credentials` with RFC 7523 client authentication (`client_assertion`), and RFC
/// 7523's `jwt-bearer` (`assertion`). A user assertion, when sent, is token exchange's `id_token`
/// `subject_token` and must name the task's user.
public struct TokenRequest: Sendable, Hashable {
    /// RFC 8693's grant type.
    public static let grantType = TokenEndpointForm.grantType
    /// The grant types served.
    public static let grantTypes = [
        TokenEndpointForm.grantType, TokenEndpointForm.clientCredentialsGrantType, TokenEndpointForm.jwtBearerGrantType,
    ]
    /// The token type of workload assertions.
    public static let jwtType = TokenEndpointForm.jwtType
    /// The token type of user assertions.
    public static let idTokenType = TokenEndpointForm.idTokenType
    /// The token type issued.
    public static let accessTokenType = TokenEndpointForm.accessTokenType

    /// What a request asks for of the grant at its audience.
    public enum Requested: Sendable, Hashable {
        /// RFC 9396 authorization details.
        case details([AuthorizationDetail])
        /// Space-separated scope values, which the policy files map to details per audience.
        case scope(String)
    }

    /// The grant type.
    public var grantType: String
    /// The workload's assertion; nil when the workload proves itself with an X.509-SVID over mutual TLS.
    public var workloadAssertion: String?
    /// Whether the assertion came as client authentication (`client_assertion`): a bad one is `invalid_client`.
    public var assertionIsClientAuthentication: Bool
    /// The `client_id` sent, which must be the workload's SPIFFE ID.
    public var clientID: String?
    /// The user's assertion, when sent.
    public var userAssertion: String?
    /// The task; nil for an implicit task.
    public var taskID: String?
    /// The resource server the token is for.
    public var audience: String
    /// What of the grant is asked for; nil for all the task's grant at the audience.
    public var requested: Requested?
    /// An implicit task's type, when the request names one.
    public var taskType: String?
    /// An implicit task's purpose, when the request states one.
    public var purpose: String?

    /// Reads the token endpoint's form, with the rules the wire type leaves to the broker.
    public init(_ form: TokenEndpointForm) throws(BrokerError) {
        guard Self.grantTypes.contains(form.grantType) else {
            throw BrokerError(
                .unsupportedGrantType,
                "the grant types served: \(Self.grantTypes.joined(separator: ", "))"
            )
        }
        grantType = form.grantType
        if let requested = form.requestedTokenType, requested != Self.accessTokenType {
            throw BrokerError(.invalidRequest, "only access tokens are issued")
        }
        audience = try Self.audience(form)
        (workloadAssertion, userAssertion, assertionIsClientAuthentication) = try Self.assertions(form)
        clientID = form.clientID
        requested = try Self.requested(form)
        taskID = try Self.text(form.taskID, "task_id", maximum: 128)
        taskType = try Self.text(form.taskType, "task_type", maximum: 128)
        purpose = try Self.text(form.purpose, "purpose", maximum: 1024)
        if taskID != nil, taskType != nil || purpose != nil {
            throw BrokerError(
                .invalidRequest,
                "task_type and purpose describe an implicit task; the task named by task_id has its own"
            )
        }
        if taskID == nil, requested == nil {
            throw BrokerError(
                .invalidRequest,
                "name a task with task_id, or ask for an implicit task with authorization_details or scope"
            )
        }
    }

    /// Reads the token endpoint's form from its parameters.
    public init(form: [String: String]) throws(BrokerError) {
        // RFC 6749 §5.2: a grant type this server does not support is said first, whatever else is missing.
        if let grant = form["grant_type"], !Self.grantTypes.contains(grant) {
            throw BrokerError(
                .unsupportedGrantType,
                "the grant types served: \(Self.grantTypes.joined(separator: ", "))"
            )
        }
        do {
            self = try TokenRequest(try TokenEndpointForm(parameters: form))
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.invalidRequest, String(describing: error))
        }
    }

    private static func text(_ value: String?, _ name: String, maximum: Int) throws(BrokerError) -> String? {
        guard let value else { return nil }
        guard !value.isEmpty, value.utf8.count <= maximum else {
            throw BrokerError(.invalidRequest, "\(name) must be a non-empty string of at most \(maximum) bytes")
        }
        return value
    }

    /// The audience: `audience` or RFC 8707 `resource`, which must agree when both are sent.
    private static func audience(_ form: TokenEndpointForm) throws(BrokerError) -> String {
        guard let audience = form.audience ?? form.resource, !audience.isEmpty, audience.utf8.count <= 2048 else {
            throw BrokerError(.invalidRequest, "resource is required: the resource server the token is for")
        }
        if let audienceParameter = form.audience, let resource = form.resource, audienceParameter != resource {
            throw BrokerError(.invalidTarget, "audience and resource name different resource servers")
        }
        return audience
    }

    /// The workload's and the user's assertions, as the grant carries them, and whether the workload's is
    /// client authentication.
    private static func assertions(
        _ form: TokenEndpointForm
    ) throws(BrokerError) -> (workload: String?, user: String?, clientAuthentication: Bool) {
        let client = try clientAssertion(form)
        switch form.grantType {
        case TokenEndpointForm.grantType:
            let (workload, user) = try exchangeAssertions(form)
            if let client, let workload, client != workload {
                throw BrokerError(
                    .invalidRequest,
                    "send the workload's assertion once: actor_token or client_assertion"
                )
            }
            return (workload ?? client, user, workload == nil && client != nil)
        default:
            for (name, value) in [("actor_token", form.actorToken), ("subject_token", form.subjectToken)]
            where value != nil {
                throw BrokerError(.invalidRequest, "\(name) belongs to token exchange, not \(form.grantType)")
            }
            if form.grantType == TokenEndpointForm.jwtBearerGrantType {
                guard let assertion = form.assertion, !assertion.isEmpty else {
                    throw BrokerError(.invalidRequest, "assertion is required: the workload's identity JWT")
                }
                if let client, client != assertion {
                    throw BrokerError(
                        .invalidRequest,
                        "send the workload's assertion once: assertion or client_assertion"
                    )
                }
                return (assertion, nil, false)
            }
            if form.assertion != nil {
                throw BrokerError(.invalidRequest, "assertion belongs to the jwt-bearer grant")
            }
            return (client, nil, client != nil)
        }
    }

    /// RFC 7523 §2.2 client authentication, when sent.
    private static func clientAssertion(_ form: TokenEndpointForm) throws(BrokerError) -> String? {
        switch (form.clientAssertionType, form.clientAssertion) {
        case (nil, nil): return nil
        case (TokenEndpointForm.jwtBearerAssertionType, let assertion?) where !assertion.isEmpty: return assertion
        case (_?, nil), (nil, _?):
            throw BrokerError(.invalidClient, "send client_assertion_type and client_assertion together")
        default:
            throw BrokerError(
                .invalidClient,
                "client_assertion_type must be \(TokenEndpointForm.jwtBearerAssertionType), with the workload's identity JWT"
            )
        }
    }

    /// Token exchange's assertions (RFC 8693 §2.1).
    private static func exchangeAssertions(_ form: TokenEndpointForm) throws(BrokerError) -> (String?, String?) {
        let subjectType = form.subjectTokenType
        if form.subjectToken != nil, subjectType == nil {
            throw BrokerError(.invalidRequest, "subject_token_type is required with subject_token")
        }
        if form.actorToken != nil, form.actorTokenType != Self.jwtType {
            throw BrokerError(.invalidRequest, "actor_token_type must be \(Self.jwtType)")
        }
        switch (form.actorToken, form.subjectToken, subjectType) {
        case (let actor?, nil, _): return (actor, nil)
        case (let actor?, let subject?, Self.idTokenType): return (actor, subject)
        case (let actor?, let subject?, Self.jwtType):
            guard actor == subject else {
                throw BrokerError(.invalidRequest, "a jwt subject_token must be the actor's own assertion")
            }
            return (actor, nil)
        case (nil, let subject?, Self.jwtType): return (subject, nil)
        // The workload is the mutual-TLS peer, or the client assertion's.
        case (nil, let subject?, Self.idTokenType): return (nil, subject)
        case (nil, nil, _): return (nil, nil)
        default:
            throw BrokerError(.invalidRequest, "subject_token_type must be \(Self.jwtType) or \(Self.idTokenType)")
        }
    }

    /// What of the grant is asked for: `authorization_details` (strict JSON, an array of RFC 9396 objects) or
    /// `scope`, not both.
    private static func requested(_ form: TokenEndpointForm) throws(BrokerError) -> Requested? {
        switch (form.authorizationDetails, form.scope) {
        case (nil, nil): return nil
        case (_?, _?): throw BrokerError(.invalidRequest, "send authorization_details or scope, not both")
        case (nil, let scope?):
            let values = scope.split(separator: " ", omittingEmptySubsequences: true)
            guard !values.isEmpty, values.count <= TaskDescriptor.maximumDetails,
                values.allSatisfy({ ScopeMapping.isScopeValue(String($0)) })
            else {
                throw BrokerError(
                    .invalidScope,
                    "scope must be up to \(TaskDescriptor.maximumDetails) space-separated values (RFC 6749 §3.3)"
                )
            }
            return .scope(values.joined(separator: " "))
        case (let text?, nil):
            let entries: [JSONValue]
            do {
                guard let array = try StrictJSON(maximumDepth: 16).parse(text).arrayValue else {
                    throw BrokerError(.invalidRequest, "authorization_details must be a JSON array")
                }
                entries = array
            } catch let error as BrokerError {
                throw error
            } catch {
                throw BrokerError(.invalidRequest, "authorization_details is not JSON: \(error)")
            }
            guard !entries.isEmpty, entries.count <= TaskDescriptor.maximumDetails else {
                throw BrokerError(
                    .invalidRequest,
                    "authorization_details must hold 1 to \(TaskDescriptor.maximumDetails) entries"
                )
            }
            var details: [AuthorizationDetail] = []
            for (index, entry) in entries.enumerated() {
                do {
                    details.append(try AuthorizationDetail(json: entry))
                } catch {
                    throw BrokerError(.invalidRequest, "authorization_details[\(index)]: \(error.description)")
                }
            }
            return .details(details)
        }
    }
}

/// What the token endpoint returns (RFC 8693 §2.2.1).
public struct IssuedAccessToken: Sendable, Hashable {
    /// The signed token.
    public let token: String
    /// `DPoP` or `Bearer`.
    public let tokenType: String
    /// Seconds until it expires.
    public let expiresIn: Int
    /// The record kept of it.
    public let record: IssuedToken
    /// The authorization details it carries (RFC 9396 §7).
    public let authorizationDetails: [AuthorizationDetail]
    /// The scope values it carries, when it was asked for by scope (RFC 6749 §5.1).
    public var scope: String? = nil

    /// What the token endpoint answers.
    public var wire: TokenResponse {
        TokenResponse(
            accessToken: token,
            tokenType: tokenType == "DPoP" ? .dpop : .bearer,
            expiresIn: Int64(expiresIn),
            authorizationDetails: authorizationDetails,
            scope: scope
        )
    }
}

extension TokenRequest.Requested? {
    /// Whether the request asked by scope.
    var isScope: Bool {
        if case .scope? = self { return true }
        return false
    }
}
