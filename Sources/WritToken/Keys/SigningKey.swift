import Crypto

/// A private key with its key id, as the broker signs with it. Its description never shows key material.
public struct SigningKey: Sendable, CustomStringConvertible {
    /// The key id written into every token's `kid` header.
    public let id: String
    /// The private key; its kind fixes the algorithm.
    public let privateKey: PrivateKey

    /// Pairs a private key with a key id.
    public init(id: String, privateKey: PrivateKey) {
        self.id = id
        self.privateKey = privateKey
    }

    /// Generates a key whose id is its RFC 7638 thumbprint.
    public static func generate(_ algorithm: SignatureAlgorithm = .es256) -> SigningKey {
        let key = PrivateKey.generate(algorithm)
        return SigningKey(id: key.publicKey.thumbprint, privateKey: key)
    }

    /// The algorithm every signature by this key uses.
    public var algorithm: SignatureAlgorithm { privateKey.algorithm }

    /// The public half, as verifiers configure it.
    public var verificationKey: VerificationKey {
        VerificationKey(id: id, publicKey: privateKey.publicKey)
    }

    public var description: String { "SigningKey(kid: \(id), \(algorithm.rawValue), redacted)" }
}

/// A public key with its key id, as a verifier looks it up by the token's `kid`.
public struct VerificationKey: Sendable, Equatable {
    /// The key id.
    public let id: String
    /// The public key; its kind fixes the algorithm.
    public let publicKey: PublicKey
    /// The key's raw public bytes, kept so equality is a byte comparison.
    private let rawBytes: [UInt8]

    /// Pairs a public key with a key id.
    public init(id: String, publicKey: PublicKey) {
        self.id = id
        self.publicKey = publicKey
        switch publicKey {
        case .p256(let key): rawBytes = [0] + Array(key.rawRepresentation)
        case .ed25519(let key): rawBytes = [1] + Array(key.rawRepresentation)
        }
    }

    /// Two keys are equal when their ids and public keys are.
    public static func == (lhs: VerificationKey, rhs: VerificationKey) -> Bool {
        lhs.id == rhs.id && lhs.rawBytes == rhs.rawBytes
    }

    /// The algorithm this key verifies.
    public var algorithm: SignatureAlgorithm { publicKey.algorithm }

    /// The key as a public JWK with `kid`, `alg` and `use: sig`.
    public var jwk: JSONValue {
        var members = publicKey.jwkMembers
        members["kid"] = .string(id)
        members["alg"] = .string(algorithm.rawValue)
        members["use"] = .string("sig")
        return .object(members)
    }
}
