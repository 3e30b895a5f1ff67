public import Foundation
import Synchronization
public import WritToken

/// Remembers tokens whose signature verified, by their exact bytes, so a resource server that sees the same
/// token on many requests checks its signature once.
///
/// Only the signature and the decoding are reused. Every other check — the key still being in the key set,
/// issuer, audience, time, sender constraint, revocation, authorization — runs on every request. An entry is
/// only added after a token passed every check. When the cache is full, expired tokens are dropped, and if it
/// is still full it is emptied, so memory stays bounded.
public final class VerifiedTokenCache: Sendable {
    struct Entry {
        let claims: AccessTokenClaims
        let key: VerificationKey
    }

    private let entries: Mutex<[[UInt8]: Entry]>
    /// The most tokens held at once.
    public let capacity: Int

    /// A cache holding at most `capacity` tokens.
    public init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex(Dictionary(minimumCapacity: min(capacity, 1024)))
    }

    /// How many tokens are held.
    public var count: Int { entries.withLock { $0.count } }

    func lookup(_ token: Substring) -> Entry? {
        // Keyed by the exact bytes: String equality would treat canonically equivalent spellings as one.
        let key = Array(token.utf8)
        return entries.withLock { $0[key] }
    }

    func insert(_ token: Substring, claims: AccessTokenClaims, key: VerificationKey, now: Date) {
        let entry = Entry(claims: claims, key: key)
        let text = Array(token.utf8)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.claims.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[text] = entry
        }
    }
}
