/// The JWS algorithms this profile signs and verifies with. A key fixes its algorithm.
public enum SignatureAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// ECDSA over P-256 with SHA-256 (RFC 7518 §3.4); the default.
    case es256 = "ES256"
    /// Ed25519 (RFC 8037), named `EdDSA` in headers this profile writes.
    case edDSA = "EdDSA"

    /// The algorithm a JWS header value names, accepting the fully specified RFC 9864 name `Ed25519`.
    ///
    /// Every other value, `none` and the HMAC family among them, gives nil.
    public init?(headerValue: String) {
        switch headerValue {
        case "ES256": self = .es256
        case "EdDSA", "Ed25519": self = .edDSA
        default: return nil
        }
    }

    /// The exact length of a signature, so no other length (such as a DER-encoded ECDSA signature) is tried.
    public var signatureLength: Int { 64 }
}
