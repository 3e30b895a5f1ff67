public import WritToken

/// A value that crosses the wire as JSON: read from a ``JSONValue`` at a path, written back as one.
public protocol WireValue: Sendable {
    /// Reads the value found at `path` (`$` for a whole body).
    init(json: JSONValue, at path: String, mode: WireMode) throws(WireError)
    /// The value as JSON, exactly as the broker sends it.
    var json: JSONValue { get }
}

extension WireValue {
    /// Reads a whole body.
    public init(json: JSONValue, mode: WireMode) throws(WireError) {
        try self.init(json: json, at: "$", mode: mode)
    }

    /// Reads a request body from its bytes: strict JSON, no member the type does not have.
    public init(requestBody bytes: [UInt8], maximumDepth: Int = 16) throws(WireError) {
        try self.init(json: try Self.parse(bytes, maximumDepth: maximumDepth), at: "$", mode: .request)
    }

    /// Reads a response body from its bytes: strict JSON; members the type does not know are ignored.
    public init(responseBody bytes: [UInt8], maximumDepth: Int = 64) throws(WireError) {
        try self.init(json: try Self.parse(bytes, maximumDepth: maximumDepth), at: "$", mode: .response)
    }

    /// The compact bytes of the value, as sent.
    public var bytes: [UInt8] { JSONWriter.bytes(json) }

    private static func parse(_ bytes: [UInt8], maximumDepth: Int) throws(WireError) -> JSONValue {
        do {
            return try StrictJSON(maximumDepth: maximumDepth).parse(bytes: bytes)
        } catch {
            throw .notJSON(error.description)
        }
    }
}

/// A JSON object body with a type of its own in this module: read member by member through a
/// ``WireObject``, which refuses unknown members in requests.
public protocol WireMessage: WireValue, Hashable {
    /// Reads the message's members.
    init(from object: WireObject) throws(WireError)
}

extension WireMessage {
    /// Reads the object at `path`.
    public init(json: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        self = try WireObject.read(json, at: path, mode: mode, Self.init(from:))
    }
}
