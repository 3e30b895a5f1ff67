public import WritToken

/// What `POST /v1/admin/revocations` answers once the revocation is durable.
public struct RevocationOutcomeResponse: WireMessage {
    /// The feed entries written.
    public var revocations: [Revocation]
    /// The highest feed sequence number written.
    public var sequence: Int64
    /// The ids of the tasks it closed, as a task's own closure lists them.
    public var tasksClosed: [String]
    /// How many live tokens the revocation covers.
    public var tokensCovered: Int64

    /// An outcome.
    public init(revocations: [Revocation], sequence: Int64, tasksClosed: [String], tokensCovered: Int64) {
        self.revocations = revocations
        self.sequence = sequence
        self.tasksClosed = tasksClosed
        self.tokensCovered = tokensCovered
    }

    /// Reads an outcome.
    public init(from object: WireObject) throws(WireError) {
        revocations = try object.array("revocations")
        sequence = try object.integer("sequence")
        tasksClosed = try object.strings("tasks_closed")
        tokensCovered = try object.integer("tokens_covered")
    }

    /// The outcome as JSON.
    public var json: JSONValue {
        .object([
            "revocations": .values(revocations),
            "sequence": .integer(sequence),
            "tasks_closed": .strings(tasksClosed),
            "tokens_covered": .integer(tokensCovered),
        ])
    }
}
