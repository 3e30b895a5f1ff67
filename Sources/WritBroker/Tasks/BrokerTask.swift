public import Foundation
public import WritPolicy
public import WritToken

/// A task as the broker keeps it.
public struct BrokerTask: Sendable, Hashable {
    /// The task id (`txn` in its tokens).
    public var id: String
    /// The parent task, for a sub-task.
    public var parentID: String?
    /// The root of the task's tree.
    public var rootID: String
    /// 0 for a root task, the parent's plus one for a sub-task.
    public var depth: Int
    /// The workload that acts in the task and gets its tokens.
    public var workload: SPIFFEID
    /// The workloads that delegated to it, nearest first.
    public var actors: [SPIFFEID]
    /// Who created it: the workload itself, or the parent's workload when delegated.
    public var createdBy: SPIFFEID
    /// How the acting workload proved its identity.
    public var attestation: Attestation
    /// The user the task is for, from a verified assertion.
    public var user: UserClaims?
    /// The task type.
    public var type: String
    /// The stated purpose (`purp`).
    public var purpose: String?
    /// What the policy granted.
    public var grant: Grant
    /// Where the task is.
    public var state: TaskState
    /// Why it closed, when it did.
    public var reason: String?
    /// When it was created.
    public var createdAt: Date
    /// When it expires at the latest.
    public var deadline: Date
    /// How often the workload promised a heartbeat, if it did.
    public var heartbeatInterval: TimeInterval?
    /// The last heartbeat (creation counts as one).
    public var lastHeartbeat: Date?
    /// When it closed.
    public var closedAt: Date?
    /// Whether the token endpoint made it for one token (from `resource` and `authorization_details` or
    /// `scope`): it ends when that token expires or is revoked, and gives no other token.
    public var implicit: Bool = false

    /// The `sub` of the task's tokens: the user, or the acting workload when there is none.
    public var tokenSubject: String { user?.subject ?? workload.description }

    /// Heartbeats may be missed this many times before the task expires.
    public static let heartbeatGrace = 2.0

    /// Whether the task must expire at `now`: deadline passed, or heartbeats missed.
    public func isDue(at now: Date) -> Bool {
        guard state == .open else { return false }
        if now >= deadline { return true }
        if let heartbeatInterval, let lastHeartbeat {
            return now.timeIntervalSince(lastHeartbeat) > heartbeatInterval * Self.heartbeatGrace
        }
        return false
    }
}
