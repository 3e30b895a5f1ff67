public import WritToken

/// `POST /v1/tasks/{id}/complete` and `/abort`: what was closed and revoked, once it is durable.
public struct TaskClosureResponse: WireMessage {
    /// The task's state now: `completed`, `aborted` or `expired`.
    public var state: TaskBody.State
    /// The ids of the tasks closed: the task and every open sub-task.
    public var tasksClosed: [String]
    /// The feed entries written.
    public var revocations: [Revocation]
    /// The highest feed sequence number written (0 when none).
    public var sequence: Int64

    /// A closure.
    public init(state: TaskBody.State, tasksClosed: [String], revocations: [Revocation], sequence: Int64) {
        self.state = state
        self.tasksClosed = tasksClosed
        self.revocations = revocations
        self.sequence = sequence
    }

    /// Reads a closure.
    public init(from object: WireObject) throws(WireError) {
        state = try object.enumeration("state")
        tasksClosed = try object.strings("tasks_closed")
        revocations = try object.array("revocations")
        sequence = try object.integer("sequence")
    }

    /// The closure as JSON.
    public var json: JSONValue {
        .object([
            "state": .string(state.rawValue),
            "tasks_closed": .strings(tasksClosed),
            "revocations": .values(revocations),
            "sequence": .integer(sequence),
        ])
    }
}
