public import WritToken

/// `GET /.well-known/spiffe-bundle`: the broker's signing keys as a SPIFFE bundle, so SPIFFE-aware software can
/// load them as the keys of the broker's tokens. A JWKS whose keys carry `use` `jwt-svid`, with how often to
/// fetch it again.
public struct SPIFFEBundleDocument: WireMessage {
    /// The keys, each a JWK object with `use` `jwt-svid`.
    public var keys: [JSONValue]
    /// How often, in seconds, a consumer should fetch the bundle again.
    public var spiffeRefreshHint: Int64

    /// A bundle.
    public init(keys: [JSONValue], spiffeRefreshHint: Int64) {
        self.keys = keys
        self.spiffeRefreshHint = spiffeRefreshHint
    }

    /// Reads a bundle; every key must be an object.
    public init(from object: WireObject) throws(WireError) {
        keys = try KeySetDocument.keys(of: object)
        spiffeRefreshHint = try object.integer("spiffe_refresh_hint")
    }

    /// The bundle as JSON.
    public var json: JSONValue {
        .object(["keys": .array(keys), "spiffe_refresh_hint": .integer(spiffeRefreshHint)])
    }
}
