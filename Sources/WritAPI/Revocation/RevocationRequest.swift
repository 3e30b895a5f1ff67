public import WritToken

/// The body of an operator's `POST /v1/admin/revocations`: `{"kind": "task"|"token"|"workload"|"user",
/// "id": …}` or `{"kind": "issued_before", "before": SECONDS, "workload": optional SPIFFE ID}`. Which
/// members each kind needs is the broker's to check; this is the body's shape.
public struct RevocationRequest: WireMessage {
    /// What is revoked.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A task and every sub-task below it.
        case task
        /// One token, by `jti`.
        case token
        /// Every token of a workload.
        case workload
        /// Every token issued for a user.
        case user
        /// Every token issued before a time, optionally only a workload's.
        case issuedBefore = "issued_before"
    }

    /// What is revoked.
    public var kind: Kind
    /// The task, token, workload or user.
    public var id: String?
    /// For `issued_before`: the time, in seconds since the epoch.
    public var before: Int64?
    /// For `issued_before`: only this workload's tokens.
    public var workload: String?

    /// A revocation.
    public init(kind: Kind, id: String? = nil, before: Int64? = nil, workload: String? = nil) {
        self.kind = kind
        self.id = id
        self.before = before
        self.workload = workload
    }

    /// Reads a revocation.
    public init(from object: WireObject) throws(WireError) {
        kind = try object.enumeration("kind")
        id = try object.optionalString("id")
        before = try object.optionalInteger("before")
        workload = try object.optionalString("workload")
    }

    /// The revocation as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["kind"] = .string(kind.rawValue)
        members["id"] = id.json
        members["before"] = before.json
        members["workload"] = workload.json
        return members.json
    }
}
