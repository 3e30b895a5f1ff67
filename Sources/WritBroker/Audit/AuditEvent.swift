public import WritToken

/// An entry to append to the audit log, before the log gives it a number, a time and a hash.
public struct AuditEvent: Sendable, Hashable {
    /// What happened, as `noun.verb` (`task.created`, `token.issued`).
    public var event: String
    /// Who did it: a workload's SPIFFE ID, `operator:name`, or `broker`.
    public var actor: String
    /// What it was done to: a task or token id, a feed sequence, a key id.
    public var subject: String
    /// The facts a reader needs, never a secret.
    public var detail: JSONValue

    /// An event to record.
    public init(_ event: String, actor: String, subject: String, detail: JSONValue = .object([:])) {
        self.event = event
        self.actor = actor
        self.subject = subject
        self.detail = detail
    }
}
