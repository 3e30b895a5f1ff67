public import WritToken

/// `GET /v1/revocations/stream`: the feed as Server-Sent Events. Each `revocation` event's data is one
/// ``Revocation``; each `heartbeat` event's data is one ``RevocationHeartbeat``.
public enum RevocationStream {
    /// The event carrying a feed entry.
    public static let revocationEvent = "revocation"
    /// The event carrying a heartbeat.
    public static let heartbeatEvent = "heartbeat"
    /// The header a reconnecting client resumes from; it wins over `?after=`.
    public static let lastEventIDHeader = "Last-Event-ID"
}

/// The data of a stream's `heartbeat` event: the last sequence number sent, and the broker's time.
public struct RevocationHeartbeat: WireMessage {
    /// The last sequence number sent on this stream.
    public var last: Int64
    /// The broker's time, in seconds since the epoch.
    public var time: Int64

    /// A heartbeat.
    public init(last: Int64, time: Int64) {
        self.last = last
        self.time = time
    }

    /// Reads a heartbeat.
    public init(from object: WireObject) throws(WireError) {
        last = try object.integer("last")
        time = try object.integer("time")
    }

    /// The heartbeat as JSON.
    public var json: JSONValue { .object(["last": .integer(last), "time": .integer(time)]) }
}

/// The query of `GET /v1/revocations/stream`.
public struct RevocationStreamQuery: WireParameters {
    /// Resume after this sequence number (``RevocationStream/lastEventIDHeader`` wins when sent).
    public var after: UInt64?

    /// A query.
    public init(after: UInt64? = nil) { self.after = after }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        after = try WireParameter.number(parameters, "after")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] { after.map { [("after", String($0))] } ?? [] }
}
