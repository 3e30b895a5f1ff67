public import WritToken

/// `GET /v1/admin/events`: the alerts the monitoring rules raise, as Server-Sent Events, for operators. Each
/// `alert` event has the alert's number as its `id:` and one ``MonitoringAlertBody`` as its data; each
/// `heartbeat` event's data is one ``RevocationHeartbeat`` whose `last` is the last alert number sent.
public enum AdminEventStream {
    /// The event carrying an alert.
    public static let alertEvent = "alert"
    /// The event carrying a heartbeat.
    public static let heartbeatEvent = "heartbeat"
}

/// The query of `GET /v1/admin/events`.
public struct AdminEventQuery: WireParameters {
    /// Resume after this alert number (`Last-Event-ID` wins when sent).
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
