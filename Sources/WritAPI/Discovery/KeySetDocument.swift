public import WritToken

/// `GET /.well-known/jwks.json` (RFC 7517): the broker's published signing keys. Each key is a JWK object; its
/// members are the token profile's (``JSONWebKeySet`` reads them strictly), so they are carried here as they are.
public struct KeySetDocument: WireMessage {
    /// The keys, each a JWK object.
    public var keys: [JSONValue]

    /// A key set.
    public init(keys: [JSONValue]) { self.keys = keys }

    /// Reads a key set; every key must be an object.
    public init(from object: WireObject) throws(WireError) { keys = try Self.keys(of: object) }

    /// The key set as JSON.
    public var json: JSONValue { .object(["keys": .array(keys)]) }

    /// The `keys` member of a key set or bundle: an array of JWK objects.
    static func keys(of object: WireObject) throws(WireError) -> [JSONValue] {
        guard let value = object.member("keys") else { throw .missingMember(at: object.child("keys")) }
        guard case .array(let entries) = value else { throw .wrongType(at: object.child("keys"), expected: "an array") }
        for (index, entry) in entries.enumerated() where entry.objectValue == nil {
            throw .wrongType(at: "\(object.child("keys"))[\(index)]", expected: "a JWK object")
        }
        return entries
    }
}
