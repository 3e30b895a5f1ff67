import Foundation
import Synchronization
import WritToken

/// Remembers tokens whose signature verified, by their exact bytes, so a resource server that sees the same
/// token on many requests checks its signature once.
///
/// Only the signature and the decoding are reused. Every other check — the key still being in the key set,
/// issuer, audience, time, sender constraint, revocation, authorization — runs on every request. An entry is
/// only added after a token passed every check. When the cache is full, expired tokens are dropped, and if it
/// is still full it is emptied, so memory stays bounded.
public final class VerifiedTokenCache: Sendable {
    struct Entry {
        /// The token's exact bytes; a lookup hits only when they are equal.
        let bytes: [UInt8]
        let claims: AccessTokenClaims
        let key: VerificationKey
    }

    /// Entries by a hash of the token's bytes; two tokens with one hash simply replace each other.
    private let entries: Mutex<[Int: Entry]>
    /// The most tokens held at once.
    public let capacity: Int

    /// A cache holding at most `capacity` tokens.
    public init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex(Dictionary(minimumCapacity: min(capacity, 1024)))
    }

    /// How many tokens are held.
    public var count: Int { entries.withLock { $0.count } }

    /// A hash of the token's bytes, taken without copying them.
    static func hash(_ token: Substring) -> Int {
        var hasher = Hasher()
        if token.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            Array(token.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        return hasher.finalize()
    }

    func lookup(_ token: Substring) -> Entry? {
        // Matched on the exact bytes: String equality would treat canonically equivalent spellings as one.
        let key = Self.hash(token)
        guard let entry = entries.withLock({ $0[key] }), entry.bytes.elementsEqual(token.utf8) else { return nil }
        return entry
    }

    func insert(_ token: Substring, claims: AccessTokenClaims, key: VerificationKey, now: Date) {
        let entry = Entry(bytes: Array(token.utf8), claims: claims, key: key)
        let text = Self.hash(token)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.claims.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[text] = entry
        }
    }
}
