public import Crypto
import CryptoExtras
public import Foundation

/// A public key of a supported kind; its kind fixes the algorithm.
public enum PublicKey: Sendable {
    case p256(P256.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// The one algorithm this key verifies.
    public var algorithm: SignatureAlgorithm {
        switch self {
        case .p256: .es256
        case .ed25519: .edDSA
        }
    }

    /// Whether `signature` is a valid signature of `message` under this key.
    ///
    /// Only the raw 64-byte form is accepted: r‖s for ES256 (RFC 7518 §3.4), R‖S for Ed25519.
    public func isValidSignature<Signature: DataProtocol, Message: DataProtocol>(
        _ signature: Signature,
        for message: Message
    ) -> Bool {
        guard signature.count == algorithm.signatureLength else { return false }
        switch self {
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: message)
        }
    }

    /// The public JWK members (RFC 7517, 7518, 8037) without `kid`, `alg` or `use`.
    public var jwkMembers: [String: JSONValue] {
        switch self {
        case .p256(let key):
            let raw = key.rawRepresentation
            return [
                "kty": .string("EC"), "crv": .string("P-256"),
                "x": .string(Base64URL.encode(raw.prefix(32))), "y": .string(Base64URL.encode(raw.suffix(32))),
            ]
        case .ed25519(let key):
            return [
                "kty": .string("OKP"), "crv": .string("Ed25519"), "x": .string(Base64URL.encode(key.rawRepresentation)),
            ]
        }
    }

    /// The RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order, base64url.
    public var thumbprint: String {
        let canonical: String
        switch jwkMembers {
        case let members where members["kty"] == .string("EC"):
            canonical =
                #"{"crv":"P-256","kty":"EC","x":""# + members["x"]!.stringValue! + #"","y":""#
                + members["y"]!.stringValue! + #""}"#
        case let members:
            canonical = #"{"crv":"Ed25519","kty":"OKP","x":""# + members["x"]!.stringValue! + #""}"#
        }
        return SHA256Thumbprint.of(canonical.utf8)
    }

    /// A PEM `PUBLIC KEY` (SubjectPublicKeyInfo) document.
    public var pemRepresentation: String {
        switch self {
        case .p256(let key): key.pemRepresentation
        case .ed25519(let key): key.pemRepresentation
        }
    }

    /// Reads a public key from its JWK members; `d` (a private member) is refused.
    public init(jwkMembers members: [String: JSONValue]) throws(KeyError) {
        guard members["d"] == nil else { throw .invalidJWK("a public key must not carry the private member d") }
        switch (members["kty"]?.stringValue, members["crv"]?.stringValue) {
        case ("EC", "P-256"):
            guard let xText = members["x"]?.stringValue, let yText = members["y"]?.stringValue,
                let x = Base64URL.decode(xText), let y = Base64URL.decode(yText), x.count == 32, y.count == 32
            else { throw .invalidJWK("an EC P-256 key needs 32-byte x and y coordinates") }
            guard let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else {
                throw .invalidJWK("the EC point is not on P-256")
            }
            self = .p256(key)
        case ("OKP", "Ed25519"):
            guard let xText = members["x"]?.stringValue, let x = Base64URL.decode(xText), x.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x)
            else { throw .invalidJWK("an Ed25519 key needs a 32-byte x") }
            self = .ed25519(key)
        case (let kty, let crv):
            throw .invalidJWK("unsupported key type \(kty ?? "(none)") / curve \(crv ?? "(none)")")
        }
    }
}

extension PublicKey: Equatable {
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        switch (lhs, rhs) {
        case (.p256(let a), .p256(let b)): a.rawRepresentation == b.rawRepresentation
        case (.ed25519(let a), .ed25519(let b)): a.rawRepresentation == b.rawRepresentation
        default: false
        }
    }
}
