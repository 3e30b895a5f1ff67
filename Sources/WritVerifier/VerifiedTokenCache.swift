public import Foundation
import Synchronization
public import WritToken

/// Remembers tokens whose signature verified, by their exact bytes, so a resource server that sees the same
/// token on many requests checks its signature once.
///
/// Only the signature and the decoding are reused. Every other check — the key still being in the key set,
/// issuer, audience, time, sender constraint, revocation, authorization — runs on every request. An entry is
/// only added after a token passed every check; entries go when the token expires, and when the cache is
/// full of live entries it is emptied, so memory stays bounded.
public final class VerifiedTokenCache: Sendable {
    struct Entry {
        let claims: AccessTokenClaims
        let key: VerificationKey
    }

    private let entries: Mutex<[String: Entry]>
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
        let key = String(token)
        return entries.withLock { $0[key] }
    }

    func insert(_ token: Substring, claims: AccessTokenClaims, key: VerificationKey, now: Date) {
        let entry = Entry(claims: claims, key: key)
        let text = String(token)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.claims.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[text] = entry
        }
    }
}
