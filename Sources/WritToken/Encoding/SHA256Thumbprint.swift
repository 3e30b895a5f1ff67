import Crypto

/// Base64url SHA-256, the form of JWK thumbprints (RFC 7638), `ath` (RFC 9449) and `x5t#S256` (RFC 8705).
public enum SHA256Thumbprint {
    /// The base64url SHA-256 of some bytes.
    public static func of<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Base64URL.encode(Array(SHA256.hash(data: Array(bytes))))
    }
}
