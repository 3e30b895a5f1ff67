public import WritToken

/// `GET /.well-known/jwks.json` (RFC 7517) and `GET /.well-known/spiffe-bundle`: the broker's published
/// signing keys. Each key is a JWK object; its members are the token profile's (``JSONWebKeySet`` reads
/// them strictly), so they are carried here as they are.
public struct KeySetDocument: WireMessage {
    /// The keys, each a JWK object.
    public var keys: [JSONValue]
    /// For the SPIFFE bundle: how often, in seconds, a consumer should fetch it again.
    public var spiffeRefreshHint: Int64?

    /// A key set.
    public init(keys: [JSONValue], spiffeRefreshHint: Int64? = nil) {
        self.keys = keys
        self.spiffeRefreshHint = spiffeRefreshHint
    }

    /// Reads a key set; every key must be an object.
    public init(from object: WireObject) throws(WireError) {
        guard let value = object.member("keys") else { throw .missingMember(at: object.child("keys")) }
        guard case .array(let entries) = value else { throw .wrongType(at: object.child("keys"), expected: "an array") }
        for (index, entry) in entries.enumerated() where entry.objectValue == nil {
            throw .wrongType(at: "\(object.child("keys"))[\(index)]", expected: "a JWK object")
        }
        keys = entries
        spiffeRefreshHint = try object.optionalInteger("spiffe_refresh_hint")
    }

    /// The key set as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["keys"] = .array(keys)
        members["spiffe_refresh_hint"] = spiffeRefreshHint.json
        return members.json
    }
}
