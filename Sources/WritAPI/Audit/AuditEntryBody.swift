public import WritToken

/// One audit entry as the admin API and `writ audit export` carry it, with the hashes that chain it.
public struct AuditEntryBody: WireMessage {
    /// The position in the log, from 1, without gaps.
    public var seq: Int64
    /// When, in milliseconds since the epoch.
    public var atMilliseconds: Int64
    /// What happened (`task.created`, `token.issued`, …).
    public var event: String
    /// Who did it.
    public var actor: String
    /// What it was done to.
    public var subject: String
    /// Details (an object), never a secret.
    public var detail: JSONValue
    /// The previous entry's hash.
    public var prevHash: String
    /// This entry's hash.
    public var hash: String

    /// An entry.
    public init(
        seq: Int64,
        atMilliseconds: Int64,
        event: String,
        actor: String,
        subject: String,
        detail: JSONValue,
        prevHash: String,
        hash: String
    ) {
        self.seq = seq
        self.atMilliseconds = atMilliseconds
        self.event = event
        self.actor = actor
        self.subject = subject
        self.detail = detail
        self.prevHash = prevHash
        self.hash = hash
    }

    /// Reads an entry.
    public init(from object: WireObject) throws(WireError) {
        seq = try object.integer("seq")
        atMilliseconds = try object.integer("at_ms")
        event = try object.string("event")
        actor = try object.string("actor")
        subject = try object.string("subject")
        detail = try object.object("detail")
        prevHash = try object.string("prev_hash")
        hash = try object.string("hash")
    }

    /// The entry as JSON.
    public var json: JSONValue {
        .object([
            "seq": .integer(seq), "at_ms": .integer(atMilliseconds), "event": .string(event),
            "actor": .string(actor), "subject": .string(subject), "detail": detail,
            "prev_hash": .string(prevHash), "hash": .string(hash),
        ])
    }
}
