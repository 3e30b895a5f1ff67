public import WritToken

/// `GET /healthz`: the broker is up.
public struct HealthResponse: WireMessage {
    /// `ok`.
    public var status: String

    /// A health answer.
    public init(status: String = "ok") { self.status = status }

    /// Reads a health answer.
    public init(from object: WireObject) throws(WireError) { status = try object.string("status") }

    /// The answer as JSON.
    public var json: JSONValue { .object(["status": .string(status)]) }
}
