public import WritToken

/// `GET /v1/admin/audit`: entries after a sequence number, oldest first, or the latest few.
public struct AuditPageResponse: WireMessage {
    /// The entries.
    public var entries: [AuditEntryBody]

    /// A page.
    public init(entries: [AuditEntryBody]) { self.entries = entries }

    /// Reads a page.
    public init(from object: WireObject) throws(WireError) { entries = try object.array("entries") }

    /// The page as JSON.
    public var json: JSONValue { .object(["entries": .values(entries)]) }
}

/// The query of `GET /v1/admin/audit`.
public struct AuditPageQuery: WireParameters {
    /// Entries after this sequence number.
    public var after: UInt64?
    /// At most this many (1 to 1000; 100 when absent).
    public var limit: UInt64?
    /// Instead: the latest this many (0 to 1000).
    public var last: UInt64?

    /// A query.
    public init(after: UInt64? = nil, limit: UInt64? = nil, last: UInt64? = nil) {
        self.after = after
        self.limit = limit
        self.last = last
    }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        after = try WireParameter.number(parameters, "after")
        limit = try WireParameter.number(parameters, "limit")
        last = try WireParameter.number(parameters, "last")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] {
        [("after", after), ("limit", limit), ("last", last)].compactMap { name, value in
            value.map { (name, String($0)) }
        }
    }
}
