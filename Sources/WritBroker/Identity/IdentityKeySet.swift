import Crypto
public import CryptoExtras
import Foundation
public import WritToken

/// A key that may sign identity assertions (JWT-SVIDs, OIDC workload tokens, ID tokens). Unlike Writ's own
/// access tokens, these come from other systems, so RS256 is accepted here too (Kubernetes and most identity
/// providers sign with it).
public enum IdentityKey: Sendable {
    /// An ES256 or EdDSA key.
    case standard(PublicKey)
    /// An RSA key of at least 2048 bits, for RS256.
    case rsa(_RSA.Signing.PublicKey)

    /// The only `alg` this key verifies.
    public var algorithm: String {
        switch self {
        case .standard(let key): return key.algorithm == .es256 ? "ES256" : "EdDSA"
        case .rsa: return "RS256"
        }
    }

    /// Whether `alg` names this key's algorithm.
    func accepts(_ alg: String) -> Bool {
        switch self {
        case .standard(let key):
            guard let algorithm = SignatureAlgorithm(headerValue: alg) else { return false }
            return algorithm == key.algorithm
        case .rsa: return alg == "RS256"
        }
    }

    /// Checks a signature over `message`.
    func isValidSignature(_ signature: [UInt8], for message: ArraySlice<UInt8>) -> Bool {
        switch self {
        case .standard(let key):
            guard signature.count == key.algorithm.signatureLength else { return false }
            return key.isValidSignature(signature, for: message)
        case .rsa(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: message,
                padding: .insecurePKCS1v1_5
            )
        }
    }
}

/// The keys of one identity issuer, by `kid`.
public struct IdentityKeySet: Sendable {
    /// The keys.
    public let keys: [String: IdentityKey]

    /// A set from keys.
    public init(keys: [String: IdentityKey]) { self.keys = keys }

    /// Reads a JWKS document (RFC 7517), or a SPIFFE bundle. Keys without a `kid`, keys for encryption, keys
    /// of other types or curves and malformed or short keys are skipped (so one odd key does not lock every
    /// workload of an issuer out); a document with no usable key is refused.
    public init(jsonBytes: [UInt8]) throws(KeyError) {
        let document: JSONValue
        do {
            document = try StrictJSON(maximumDepth: 8).parse(bytes: jsonBytes)
        } catch {
            throw .invalidJWKS("not strict JSON: \(error.message)")
        }
        guard let entries = document.objectValue?["keys"]?.arrayValue else {
            throw .invalidJWKS("a JWKS is an object with a keys array")
        }
        var keys: [String: IdentityKey] = [:]
        for entry in entries {
            guard let members = entry.objectValue, let kid = members["kid"]?.stringValue, !kid.isEmpty else {
                continue
            }
            if let use = members["use"]?.stringValue, use != "sig", use != "jwt-svid" { continue }
            switch members["kty"]?.stringValue {
            case "RSA":
                guard let n = members["n"]?.stringValue.flatMap(Base64URL.decode),
                    let e = members["e"]?.stringValue.flatMap(Base64URL.decode),
                    let key = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { continue }
                keys[kid] = .rsa(key)
            case "EC", "OKP":
                guard let key = try? PublicKey(jwkMembers: members) else { continue }
                keys[kid] = .standard(key)
            default:
                continue
            }
        }
        guard !keys.isEmpty else { throw .invalidJWKS("the document holds no usable signing key") }
        self.keys = keys
    }
}
