public import WritToken

/// `GET /v1/revocations`: a page of the feed, oldest first. Entries before `first` were dropped because
/// every token they covered has expired.
public struct RevocationPageResponse: WireMessage {
    /// The entries after the requested sequence number.
    public var revocations: [Revocation]
    /// The oldest entry the broker still holds; nil (sent as `null`) when it holds none.
    public var first: Int64?
    /// The newest sequence number.
    public var last: Int64
    /// Whether entries follow this page.
    public var hasMore: Bool
    /// The broker's time, in seconds since the epoch.
    public var time: Int64

    /// A page.
    public init(revocations: [Revocation], first: Int64?, last: Int64, hasMore: Bool, time: Int64) {
        self.revocations = revocations
        self.first = first
        self.last = last
        self.hasMore = hasMore
        self.time = time
    }

    /// Reads a page.
    public init(from object: WireObject) throws(WireError) {
        revocations = try object.array("revocations")
        first = try object.nullableInteger("first")
        last = try object.integer("last")
        hasMore = try object.bool("has_more")
        time = try object.integer("time")
    }

    /// The page as JSON; `first` is always sent, `null` when there is none.
    public var json: JSONValue {
        .object([
            "revocations": .values(revocations), "first": first.json ?? .null, "last": .integer(last),
            "has_more": .bool(hasMore), "time": .integer(time),
        ])
    }
}

/// The query of `GET /v1/revocations`.
public struct RevocationPageQuery: WireParameters {
    /// Entries after this sequence number (0: from the start).
    public var after: UInt64?
    /// At most this many (the broker allows 1 to 1000; 500 when absent).
    public var limit: UInt64?

    /// A query.
    public init(after: UInt64? = nil, limit: UInt64? = nil) {
        self.after = after
        self.limit = limit
    }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        after = try WireParameter.number(parameters, "after")
        limit = try WireParameter.number(parameters, "limit")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] {
        (after.map { [("after", String($0))] } ?? []) + (limit.map { [("limit", String($0))] } ?? [])
    }
}
