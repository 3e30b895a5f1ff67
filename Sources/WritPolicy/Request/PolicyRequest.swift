public import Foundation
public import WritToken

/// How a workload proved its identity.
public enum Attestation: String, Sendable, Hashable, CaseIterable {
    /// A JWT-SVID.
    case jwtSVID = "jwt-svid"
    /// An X.509-SVID over mutual TLS.
    case x509SVID = "x509-svid"
    /// An OIDC workload token (e.g. a Kubernetes projected service-account token).
    case oidc = "oidc"
}

/// The verified caller.
public struct WorkloadIdentity: Sendable, Hashable {
    /// The workload's SPIFFE ID.
    public var id: SPIFFEID
    /// How it was proven.
    public var attestation: Attestation

    /// A verified workload.
    public init(id: SPIFFEID, attestation: Attestation) {
        self.id = id
        self.attestation = attestation
    }
}

/// The claims of a verified user assertion: the human the task is for.
public struct UserClaims: Sendable, Hashable {
    /// Every claim as verified.
    public var claims: [String: JSONValue]

    /// Claims of a verified assertion; `sub` must be among them.
    public init(claims: [String: JSONValue]) {
        self.claims = claims
    }

    /// The subject.
    public var subject: String? { claims["sub"]?.stringValue }
    /// The `groups` claim, as strings.
    public var groups: [String] { claims["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    /// The domain of the `email` claim, lower-cased.
    public var emailDomain: String? {
        guard let email = claims["email"]?.stringValue, let at = email.lastIndex(of: "@") else { return nil }
        return email[email.index(after: at)...].lowercased()
    }

    /// A claim's value as text, for templates and matching: strings as they are, integers and booleans
    /// spelled out; nil for anything else.
    public func text(_ name: String) -> String? {
        switch name {
        case "email_domain": return emailDomain
        default:
            switch claims[name] {
            case .string(let value): return value
            case .integer(let value): return String(value)
            case .bool(let value): return String(value)
            default: return nil
            }
        }
    }
}

/// A sub-task's parent, as far as policy needs it.
public struct ParentTask: Sendable, Hashable {
    /// The workload that owns the parent task and delegates.
    public var workload: SPIFFEID
    /// The parent's grant.
    public var grant: Grant
    /// The parent's delegation depth (0 for a root task).
    public var depth: Int
    /// How much longer the parent may run.
    public var remaining: TimeInterval

    /// Describes a parent task.
    public init(workload: SPIFFEID, grant: Grant, depth: Int, remaining: TimeInterval) {
        self.workload = workload
        self.grant = grant
        self.depth = depth
        self.remaining = remaining
    }
}

/// Everything a decision depends on: who asks, for whom, for what task.
public struct PolicyRequest: Sendable, Hashable {
    /// The caller.
    public var workload: WorkloadIdentity
    /// The user, when a verified assertion came with the task.
    public var user: UserClaims?
    /// The task's type, e.g. `answer-question`.
    public var taskType: String
    /// The task's declared purpose.
    public var purpose: String?
    /// What the task asks for.
    public var authorizationDetails: [AuthorizationDetail]
    /// How long the task asks to run; nil takes the policy's ceiling.
    public var requestedDuration: TimeInterval?
    /// Whether the task asks for tokens without a sender constraint.
    public var wantsBearerTokens: Bool
    /// The parent, for a sub-task.
    public var parent: ParentTask?

    /// A request.
    public init(
        workload: WorkloadIdentity,
        user: UserClaims? = nil,
        taskType: String,
        purpose: String? = nil,
        authorizationDetails: [AuthorizationDetail],
        requestedDuration: TimeInterval? = nil,
        wantsBearerTokens: Bool = false,
        parent: ParentTask? = nil
    ) {
        self.workload = workload
        self.user = user
        self.taskType = taskType
        self.purpose = purpose
        self.authorizationDetails = authorizationDetails
        self.requestedDuration = requestedDuration
        self.wantsBearerTokens = wantsBearerTokens
        self.parent = parent
    }

    /// The delegation depth: 0 for a root task, the parent's plus one for a sub-task.
    public var depth: Int { parent.map { $0.depth + 1 } ?? 0 }
}
