import Foundation
import Logging
public import WritPolicy
public import WritToken
import WritVerifier

// What a token request asks for at its audience, and the task a request without one opens.
extension TokenService {
    /// The authorization details a request asks for at its audience: `authorization_details` as sent (an entry
    /// without `locations` is at the audience; one naming another resource server is refused), or what the
    /// policy files map its `scope` values to there. Nil when it asks for none.
    func requestedDetails(_ request: TokenRequest) throws(BrokerError) -> [AuthorizationDetail]? {
        switch request.requested {
        case nil: return nil
        case .scope(let scope):
            guard let audience = context.policies.audiences[request.audience] else {
                context.metrics.denied(BrokerError.Code.invalidScope.rawValue)
                throw BrokerError(
                    .invalidScope,
                    "no scope is declared for \(request.audience.prefix(256)): declare its scopes under 'audiences' in "
                        + "the policy files, or send authorization_details"
                )
            }
            do {
                return try audience.details(forScope: scope)
            } catch {
                context.metrics.denied(BrokerError.Code.invalidScope.rawValue)
                throw BrokerError(
                    .invalidScope,
                    "scope '\(error.value)' means nothing at \(request.audience.prefix(256))"
                )
            }
        case .details(let entries):
            return try entries.enumerated().map { (index, entry) throws(BrokerError) in
                var entry = entry
                if entry.locations.isEmpty { entry.locations = [request.audience] }
                guard entry.locations.count == 1, bytesEqual(entry.locations[0], request.audience) else {
                    throw BrokerError(
                        .invalidAuthorizationDetails,
                        "authorization_details[\(index)] names another resource server: a token is for its resource only"
                    )
                }
                return entry
            }
        }
    }

    /// The subset of the grant's entries a request asks for (RFC 9396 §6), or `invalid_authorization_details`.
    func narrow(
        _ granted: [AuthorizationDetail],
        to requested: [AuthorizationDetail],
        byScope: Bool
    ) throws(BrokerError) -> [AuthorizationDetail] {
        for (index, entry) in requested.enumerated() where !entry.isWithin(granted) {
            let code: BrokerError.Code = byScope ? .invalidScope : .invalidAuthorizationDetails
            context.metrics.denied(code.rawValue)
            throw BrokerError(
                code,
                byScope
                    ? "scope asks for \(entry.type.prefix(64)) beyond what the task's grant holds here"
                    : "authorization_details[\(index)] (\(entry.type.prefix(64))) asks for more than the task's grant holds here"
            )
        }
        return requested
    }

    /// A new implicit task for one token: its type and purpose from the request or the audience's declaration
    /// in the policy files, its details those asked for, its life the token's. The policy decides it exactly as
    /// any task.
    func openImplicitTask(
        _ request: TokenRequest,
        details: [AuthorizationDetail],
        bound: Bool,
        by caller: WorkloadIdentity
    ) async throws(BrokerError) -> BrokerTask {
        let audience = context.policies.audiences[request.audience]
        guard let type = request.taskType ?? audience?.implicitTaskType else {
            throw BrokerError(
                .invalidRequest,
                "an implicit task needs a type: send task_type, or declare implicit_task for "
                    + "\(request.audience.prefix(256)) under 'audiences' in the policy files"
            )
        }
        let settings = context.settings
        var descriptor = TaskDescriptor(
            implicitType: type,
            purpose: request.purpose ?? audience?.implicitPurpose,
            authorizationDetails: details,
            lifetime: min(settings.defaultTokenLifetime, settings.maximumTokenLifetime),
            userAssertion: request.userAssertion,
            bearer: !bound
        )
        do {
            return try await tasks.create(descriptor, by: caller)
        } catch {
            // RFC 6749 §3.3: the server may issue a narrower scope than asked for, and says which in the
            // response. Scope values the policy refuses one by one are dropped (the denial is audited); a
            // refusal of the request as a whole (no permit, a ceiling, bearer tokens) stands.
            guard case .scope = request.requested, error.code == .accessDenied, let reasons = error.reasons,
                !reasons.isEmpty, reasons.allSatisfy({ $0.entry != nil })
            else { throw Self.tokenEndpointError(error, request) }
            let refused = Set(reasons.compactMap(\.entry))
            let kept = details.indices.filter { !refused.contains($0) }.map { details[$0] }
            guard !kept.isEmpty else { throw Self.tokenEndpointError(error, request) }
            descriptor.authorizationDetails = kept
            do {
                return try await tasks.create(descriptor, by: caller)
            } catch {
                throw Self.tokenEndpointError(error, request)
            }
        }
    }

    /// A refusal of an implicit task in the token endpoint's terms (RFC 6749 §5.2, RFC 9396 §6): the policy's
    /// denial is `invalid_scope` or `invalid_authorization_details`, with its reasons; a revoked workload or
    /// user is `invalid_grant`. Other errors (limits, the store) are as the task API answers them.
    static func tokenEndpointError(_ error: BrokerError, _ request: TokenRequest) -> BrokerError {
        switch error.code {
        case .accessDenied where error.reasons?.allSatisfy({ $0.code == .bearerNotAllowed }) == true:
            return BrokerError(
                .invalidDPoPProof,
                "this resource server's tokens must be bound: send a DPoP proof, or ask over mutual TLS",
                reasons: error.reasons
            )
        case .accessDenied:
            let code: BrokerError.Code =
                if case .scope = request.requested { .invalidScope } else { .invalidAuthorizationDetails }
            return BrokerError(code, "the policy refuses it: " + error.message, reasons: error.reasons)
        case .revoked: return BrokerError(.invalidGrant, error.message)
        default: return error
        }
    }
}
