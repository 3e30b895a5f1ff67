public import Foundation
import Synchronization
import WritToken

/// Nonces the broker hands out for DPoP proofs at its token endpoint (RFC 9449 §8), so a proof cannot be
/// made ahead of time: a random value that changes every `interval`; the previous one stays valid for one
/// more interval so a client racing a rotation is not refused.
public final class DPoPNonces: Sendable {
    /// How often the nonce changes.
    public let interval: TimeInterval
    private let state = Mutex<(current: String, previous: String?, since: Date)?>(nil)

    /// Nonces rotating every `interval` seconds.
    public init(interval: TimeInterval = 60) { self.interval = interval }

    /// The nonce to hand out now.
    public func current(now: Date) -> String {
        state.withLock { state in
            if let existing = state, now.timeIntervalSince(existing.since) < interval, now >= existing.since {
                return existing.current
            }
            let fresh = Self.make()
            state = (fresh, state?.current, now)
            return fresh
        }
    }

    /// The nonces a proof may carry now.
    public func valid(now: Date) -> Set<String> {
        let current = current(now: now)
        return state.withLock { state in Set([current] + (state?.previous.map { [$0] } ?? [])) }
    }

    private static func make() -> String {
        Base64URL.encode(SecureRandom.bytes(16))
    }
}
