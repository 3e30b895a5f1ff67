public import Crypto
import CryptoExtras
public import Foundation

/// A private key of a supported kind. Its description never shows key material.
public enum PrivateKey: Sendable, CustomStringConvertible {
    case p256(P256.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// Generates a fresh key for an algorithm.
    public static func generate(_ algorithm: SignatureAlgorithm) -> PrivateKey {
        switch algorithm {
        case .es256: .p256(P256.Signing.PrivateKey())
        case .edDSA: .ed25519(Curve25519.Signing.PrivateKey())
        }
    }

    /// The one algorithm this key signs with.
    public var algorithm: SignatureAlgorithm {
        switch self {
        case .p256: .es256
        case .ed25519: .edDSA
        }
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        switch self {
        case .p256(let key): .p256(key.publicKey)
        case .ed25519(let key): .ed25519(key.publicKey)
        }
    }

    public var description: String { "PrivateKey(\(algorithm.rawValue), redacted)" }

    /// Signs a message, returning the raw 64-byte JWS signature.
    public func signature<Message: DataProtocol>(for message: Message) throws(KeyError) -> [UInt8] {
        do {
            switch self {
            case .p256(let key): return Array(try key.signature(for: message).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: message))
            }
        } catch {
            throw .signingFailed("the crypto library refused to sign")
        }
    }

    /// A PEM `PRIVATE KEY` (PKCS#8) document.
    public var pemRepresentation: String {
        switch self {
        case .p256(let key): key.pemRepresentation
        case .ed25519(let key): key.pemRepresentation
        }
    }

    /// Reads a PKCS#8 (or, for P-256, SEC 1) PEM private key of either supported kind.
    public init(pemRepresentation pem: String) throws(KeyError) {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            self = .ed25519(key)
        } else {
            throw .invalidPEM("not a PKCS#8 P-256 or Ed25519 private key")
        }
    }

    /// Reads a private key from JWK members holding `d`.
    public init(jwkMembers members: [String: JSONValue]) throws(KeyError) {
        guard let dText = members["d"]?.stringValue, let d = Base64URL.decode(dText), d.count == 32 else {
            throw .invalidJWK("a private key needs a 32-byte d")
        }
        var publicMembers = members
        publicMembers["d"] = nil
        let publicKey = try PublicKey(jwkMembers: publicMembers)
        switch publicKey {
        case .p256:
            guard let key = try? P256.Signing.PrivateKey(rawRepresentation: d) else {
                throw .invalidJWK("d is not a valid P-256 scalar")
            }
            self = .p256(key)
        case .ed25519:
            guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: d) else {
                throw .invalidJWK("d is not a valid Ed25519 seed")
            }
            self = .ed25519(key)
        }
        guard self.publicKey == publicKey else { throw .invalidJWK("d does not match the public members") }
    }
}
