/// A set of public verification keys, looked up by `kid` (RFC 7517 §5).
///
/// Immutable: a refresh builds a new set. Decoding is strict: every key must have a unique `kid`, a
/// supported type, no private members, and an `alg` (when present) that matches its type. Keys marked
/// for encryption (`use: enc`) are skipped.
public struct JSONWebKeySet: Sendable, Equatable {
    /// The keys by id.
    public let keys: [String: VerificationKey]

    /// Builds a set from keys; a later duplicate id is refused.
    public init(keys: [VerificationKey]) throws(KeyError) {
        var byID: [String: VerificationKey] = [:]
        for key in keys {
            guard byID.updateValue(key, forKey: key.id) == nil else {
                throw .invalidJWKS("duplicate kid \(key.id)")
            }
        }
        self.keys = byID
    }

    /// The key with this id, if any.
    public func key(id: String) -> VerificationKey? { keys[id] }

    /// Decodes a JWKS document.
    public init<Bytes: Collection>(jsonBytes: Bytes) throws(KeyError) where Bytes.Element == UInt8 {
        let document: JSONValue
        do {
            document = try StrictJSON().parse(jsonBytes)
        } catch {
            throw .invalidJWKS("not strict JSON: \(error)")
        }
        guard let entries = document.objectValue?["keys"]?.arrayValue else {
            throw .invalidJWKS("expected an object with a keys array")
        }
        var keys: [VerificationKey] = []
        for (position, entry) in entries.enumerated() {
            guard let members = entry.objectValue else { throw .invalidJWKS("key \(position) is not an object") }
            if members["use"]?.stringValue == "enc" { continue }
            guard let kid = members["kid"]?.stringValue, !kid.isEmpty else {
                throw .invalidJWKS("key \(position) has no kid")
            }
            let publicKey: PublicKey
            do {
                publicKey = try PublicKey(jwkMembers: members)
            } catch {
                throw .invalidJWKS("key \(kid): \(error.reason)")
            }
            if let alg = members["alg"] {
                guard let name = alg.stringValue, SignatureAlgorithm(headerValue: name) == publicKey.algorithm else {
                    throw .invalidJWKS("key \(kid): alg does not match the key type")
                }
            }
            keys.append(VerificationKey(id: kid, publicKey: publicKey))
        }
        try self.init(keys: keys)
    }

    /// The set as a JWKS document, keys sorted by id.
    public var json: JSONValue {
        .object(["keys": .array(keys.keys.sorted().map { keys[$0]!.jwk })])
    }

    /// The set as compact JWKS text.
    public var jsonString: String { JSONWriter.string(json) }
}
