public import WritToken

/// What closing a task did.
public struct TaskClosure: Sendable, Hashable {
    /// The state the task moved to.
    public let state: TaskState
    /// The tasks closed: the task, then its sub-tasks.
    public let tasks: [String]
    /// The feed entries made, one per task.
    public let revocations: [Revocation]
    /// How many unexpired tokens the closed tasks held.
    public let liveTokens: Int

    /// What closing a task did.
    public init(state: TaskState, tasks: [String], revocations: [Revocation], liveTokens: Int) {
        self.state = state
        self.tasks = tasks
        self.revocations = revocations
        self.liveTokens = liveTokens
    }

    /// The audit entry for one closed task: the task closed by the event, or a sub-task aborted with it.
    public static func auditEvent(
        closing id: String,
        root: String,
        state: TaskState,
        reason: String,
        actor: String,
        revocation: Revocation
    ) -> AuditEvent {
        AuditEvent(
            id == root ? "task.\(state.rawValue)" : "task.aborted",
            actor: actor,
            subject: id,
            detail: .object([
                "reason": .string(id == root ? reason : "parent task \(state.rawValue)"),
                "revocation": .integer(Int64(revocation.sequence)),
            ])
        )
    }
}
