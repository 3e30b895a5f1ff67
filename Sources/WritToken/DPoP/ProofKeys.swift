import Synchronization

/// What a DPoP proof's header yields — its key, algorithm and thumbprint — remembered by the header's exact
/// encoded bytes. A client signs every proof of a task with one key, so the header (typ, alg, jwk) repeats
/// byte for byte: parsing, key import and thumbprinting then happen once per key, not once per request. The
/// signature over each proof is still checked every time. Bounded: the memory is emptied when full.
final class ProofKeys: Sendable {
    static let shared = ProofKeys()
    static let capacity = 4096

    private struct Entry: Sendable {
        let key: PublicKey
        let algorithm: SignatureAlgorithm
        let thumbprint: String
    }
    private let keys = Mutex<[ArraySlice<UInt8>: Entry]>([:])
    private let requestURIs = Mutex<[String: String]>([:])

    /// The key, algorithm and thumbprint a proof's header names, after every header rule.
    func key(for jws: CompactJWS) throws(VerificationError) -> (PublicKey, SignatureAlgorithm, String) {
        let segment = jws.headerSegment
        if let entry = keys.withLock({ $0[segment] }) { return (entry.key, entry.algorithm, entry.thumbprint) }
        let header: [String: JSONValue]
        do {
            header = try jws.header()
        } catch {
            throw .proofInvalid("the proof is malformed: \(error.reason)")
        }
        guard HeaderRules.typ(header["typ"], is: DPoPProof.type) else {
            throw .proofInvalid("the proof's typ must be dpop+jwt")
        }
        let algorithm: SignatureAlgorithm
        do {
            algorithm = try HeaderRules.algorithm(in: header)
            try HeaderRules.noForbiddenMembers(header, allowed: DPoPProof.keyMember)
        } catch {
            throw .proofInvalid("the proof's header is invalid: \(error.reason)")
        }
        guard let jwk = header["jwk"]?.objectValue else { throw .proofInvalid("the proof has no jwk header") }
        let publicKey: PublicKey
        do {
            publicKey = try PublicKey(jwkMembers: jwk)
        } catch {
            throw .proofInvalid("the proof's jwk is not a usable public key: \(error.reason)")
        }
        guard publicKey.algorithm == algorithm else { throw .proofInvalid("alg does not match the proof's key") }
        let entry = Entry(key: publicKey, algorithm: algorithm, thumbprint: publicKey.thumbprint)
        keys.withLock { keys in
            if keys.count >= Self.capacity { keys.removeAll(keepingCapacity: true) }
            keys[ArraySlice(Array(segment))] = entry
        }
        return (entry.key, entry.algorithm, entry.thumbprint)
    }

    /// The normal form of a request URI, remembered (a server sees few distinct URIs per moment).
    func normalized(_ url: String) -> String? {
        if let known = requestURIs.withLock({ $0[url] }) { return known }
        guard let normal = HTTPURI.normalized(url) else { return nil }
        requestURIs.withLock { uris in
            if uris.count >= Self.capacity { uris.removeAll(keepingCapacity: true) }
            uris[url] = normal
        }
        return normal
    }
}
