public import WritToken

/// `GET /v1/admin/audit/verify` (and `writ audit verify` from a database or an export): what a walk of the
/// hash chain found.
public struct AuditVerificationResponse: WireMessage {
    /// Whether every entry is intact.
    public var intact: Bool
    /// How many entries were walked.
    public var entries: Int64
    /// The last sequence number.
    public var last: Int64
    /// The first entry altered, removed or reordered.
    public var brokenAt: Int64?
    /// What is wrong there.
    public var reason: String?
    /// The anchor checked, when one was sent: said back so a client knows it was.
    public var anchorSeq: Int64?

    /// A result.
    public init(
        intact: Bool,
        entries: Int64,
        last: Int64,
        brokenAt: Int64? = nil,
        reason: String? = nil,
        anchorSeq: Int64? = nil
    ) {
        self.intact = intact
        self.entries = entries
        self.last = last
        self.brokenAt = brokenAt
        self.reason = reason
        self.anchorSeq = anchorSeq
    }

    /// Reads a result.
    public init(from object: WireObject) throws(WireError) {
        intact = try object.bool("intact")
        entries = try object.integer("entries")
        last = try object.integer("last")
        brokenAt = try object.optionalInteger("broken_at")
        reason = try object.optionalString("reason")
        anchorSeq = try object.optionalInteger("anchor_seq")
    }

    /// The result as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["intact"] = .bool(intact)
        members["entries"] = .integer(entries)
        members["last"] = .integer(last)
        members["broken_at"] = brokenAt.json
        members["reason"] = reason.json
        members["anchor_seq"] = anchorSeq.json
        return members.json
    }
}

/// The query of `GET /v1/admin/audit/verify`: an anchor (the last line of an earlier export) the log must
/// still hold. Both or neither.
public struct AuditVerificationQuery: WireParameters {
    /// The anchor's sequence number.
    public var anchorSeq: UInt64?
    /// The anchor's hash: 64 lower-case hex digits.
    public var anchorHash: String?

    /// A query.
    public init(anchorSeq: UInt64? = nil, anchorHash: String? = nil) {
        self.anchorSeq = anchorSeq
        self.anchorHash = anchorHash
    }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        anchorSeq = try WireParameter.number(parameters, "anchor_seq")
        anchorHash = parameters["anchor_hash"]
    }

    /// The query's parameters.
    public var parameters: [(String, String)] {
        (anchorSeq.map { [("anchor_seq", String($0))] } ?? []) + (anchorHash.map { [("anchor_hash", $0)] } ?? [])
    }
}
