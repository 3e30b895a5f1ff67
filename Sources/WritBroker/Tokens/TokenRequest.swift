import Foundation
public import WritAPI
public import WritToken

/// An RFC 8693 token-exchange request to `POST /v1/token`, read from its form.
///
/// The workload proves itself with `actor_token` (a JWT-SVID or OIDC workload token); when there is no user,
/// that same assertion may be sent as `subject_token` instead. A user assertion, when sent, is the
/// `subject_token` of type `id_token` and must name the task's user. `task_id` names the task and
/// `audience` the resource server.
public struct TokenRequest: Sendable, Hashable {
    /// RFC 8693's grant type.
    public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// The token type of workload assertions.
    public static let jwtType = "urn:ietf:params:oauth:token-type:jwt"
    /// The token type of user assertions.
    public static let idTokenType = "urn:ietf:params:oauth:token-type:id_token"
    /// The token type issued.
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    /// The workload's assertion; nil when the workload proves itself with an X.509-SVID over mutual TLS.
    public var workloadAssertion: String?
    /// The user's assertion, when sent.
    public var userAssertion: String?
    /// The task.
    public var taskID: String
    /// The resource server the token is for.
    public var audience: String

    /// Reads the token endpoint's form (RFC 8693 §2.1), with the rules the wire type leaves to the broker.
    public init(_ form: TokenExchangeRequest) throws(BrokerError) {
        guard form.grantType == Self.grantType else {
            throw BrokerError(.unsupportedGrantType, "only \(Self.grantType) is supported")
        }
        // Other parameters (a client_id that a standard OAuth library sends, say) are ignored, as RFC 6749
        // §3.2 requires.
        if form.scope != nil {
            throw BrokerError(.invalidRequest, "scope is not used: a token's scope is its task's grant")
        }
        if let requested = form.requestedTokenType, requested != Self.accessTokenType {
            throw BrokerError(.invalidRequest, "only access tokens are issued")
        }
        let taskID = form.taskID
        guard !taskID.isEmpty else {
            throw BrokerError(.invalidRequest, "task_id is required")
        }
        let audience = form.audience ?? form.resource
        guard let audience, !audience.isEmpty, audience.utf8.count <= 2048 else {
            throw BrokerError(.invalidRequest, "audience is required: the resource server the token is for")
        }
        if let audienceParameter = form.audience, let resource = form.resource, audienceParameter != resource {
            throw BrokerError(.invalidTarget, "audience and resource name different resource servers")
        }
        let subjectType = form.subjectTokenType
        let actorType = form.actorTokenType
        if form.subjectToken != nil, subjectType == nil {
            throw BrokerError(.invalidRequest, "subject_token_type is required with subject_token")
        }
        if form.actorToken != nil, actorType != Self.jwtType {
            throw BrokerError(.invalidRequest, "actor_token_type must be \(Self.jwtType)")
        }
        switch (form.actorToken, form.subjectToken, subjectType) {
        case (let actor?, nil, _):
            self.workloadAssertion = actor
            self.userAssertion = nil
        case (let actor?, let subject?, Self.idTokenType):
            self.workloadAssertion = actor
            self.userAssertion = subject
        case (let actor?, let subject?, Self.jwtType):
            guard actor == subject else {
                throw BrokerError(.invalidRequest, "a jwt subject_token must be the actor's own assertion")
            }
            self.workloadAssertion = actor
            self.userAssertion = nil
        case (nil, let subject?, Self.jwtType):
            self.workloadAssertion = subject
            self.userAssertion = nil
        case (nil, let subject?, Self.idTokenType):
            // The workload is the mutual-TLS peer.
            self.workloadAssertion = nil
            self.userAssertion = subject
        case (nil, nil, _):
            self.workloadAssertion = nil
            self.userAssertion = nil
        default:
            throw BrokerError(.invalidRequest, "subject_token_type must be \(Self.jwtType) or \(Self.idTokenType)")
        }
        self.taskID = taskID
        self.audience = audience
    }

    /// Reads the token endpoint's form from its parameters.
    public init(form: [String: String]) throws(BrokerError) {
        // RFC 6749 §5.2: a grant type this server does not support is said first, whatever else is missing.
        if let grant = form["grant_type"], grant != Self.grantType {
            throw BrokerError(.unsupportedGrantType, "only \(Self.grantType) is supported")
        }
        do {
            self = try TokenRequest(try TokenExchangeRequest(parameters: form))
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.invalidRequest, String(describing: error))
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

    /// What the token endpoint answers.
    public var wire: TokenResponse {
        TokenResponse(
            accessToken: token,
            tokenType: tokenType == "DPoP" ? .dpop : .bearer,
            expiresIn: Int64(expiresIn),
            authorizationDetails: authorizationDetails
        )
    }
}
