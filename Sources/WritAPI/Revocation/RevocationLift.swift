public import WritToken

/// The body of `POST /v1/admin/revocations/{seq}/lift`: why the revocation was a mistake (audited).
public struct RevocationLiftRequest: WireMessage {
    /// Why the revocation is lifted.
    public var reason: String

    /// A lift.
    public init(reason: String) { self.reason = reason }

    /// Reads a lift.
    public init(from object: WireObject) throws(WireError) { reason = try object.string("reason") }

    /// The lift as JSON.
    public var json: JSONValue { .object(["reason": .string(reason)]) }
}

/// What `POST /v1/admin/revocations/{seq}/lift` answers: the lift's own feed entry and the entry lifted.
public struct RevocationLiftResponse: WireMessage {
    /// The lift's feed entry (kind `lift`).
    public var revocation: Revocation
    /// The workload or user entry lifted.
    public var lifted: Revocation
    /// The lift's sequence number.
    public var sequence: Int64
    /// False when the entry had been lifted before: this is the first lift.
    public var isNew: Bool

    /// A lift's answer.
    public init(revocation: Revocation, lifted: Revocation, sequence: Int64, isNew: Bool) {
        self.revocation = revocation
        self.lifted = lifted
        self.sequence = sequence
        self.isNew = isNew
    }

    /// Reads a lift's answer.
    public init(from object: WireObject) throws(WireError) {
        revocation = try object.value("revocation")
        lifted = try object.value("lifted")
        sequence = try object.integer("sequence")
        isNew = try object.bool("new")
    }

    /// The answer as JSON.
    public var json: JSONValue {
        .object([
            "revocation": revocation.json, "lifted": lifted.json, "sequence": .integer(sequence),
            "new": .bool(isNew),
        ])
    }
}
