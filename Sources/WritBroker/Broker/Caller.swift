public import WritPolicy
import WritToken

/// Who is calling, once authenticated.
public enum Caller: Sendable, Hashable {
    /// A workload, by its verified identity.
    case workload(WorkloadIdentity)
    /// An operator, by its token.
    case `operator`(OperatorIdentity)
    /// A resource server, by its verified workload identity, with the audiences it serves.
    case resourceServer(WorkloadIdentity, audiences: [String])
    /// Nobody authenticated (public routes only).
    case anonymous

    /// How the audit log names the caller.
    public var auditName: String {
        switch self {
        case .workload(let identity): return identity.id.description
        case .operator(let identity): return identity.auditName
        case .resourceServer(let identity, _): return identity.id.description
        case .anonymous: return "anonymous"
        }
    }
}
