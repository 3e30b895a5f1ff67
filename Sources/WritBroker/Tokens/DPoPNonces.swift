import Crypto
public import Foundation
import Synchronization
import WritToken

/// Nonces the broker hands out for DPoP proofs at its token endpoint (RFC 9449 §8), so a proof cannot be
/// made ahead of time. The nonce changes every `interval`; the one before stays valid for one more interval so
/// a client racing a change is not refused.
///
/// With a `secret`, the nonce of each interval is an HMAC of the interval's number under it, so every broker
/// that shares the secret (brokers sharing a state directory) hands out and accepts the same nonces, and a
/// client may take a nonce from one broker to another. Without one, a random value per interval, known to this
/// broker alone.
public final class DPoPNonces: Sendable {
    /// How often the nonce changes.
    public let interval: TimeInterval
    private let secret: SymmetricKey?
    private let state = Mutex<(current: String, previous: String?, since: Date)?>(nil)

    /// Nonces changing every `interval` seconds, derived from `secret` when one is given.
    public init(interval: TimeInterval = 60, secret: [UInt8]? = nil) {
        self.interval = interval
        self.secret = secret.map { SymmetricKey(data: $0) }
    }

    /// The nonce to hand out now.
    public func current(now: Date) -> String {
        if secret != nil { return derived(window: window(now)) }
        return state.withLock { state in
            if let existing = state, now.timeIntervalSince(existing.since) < interval, now >= existing.since {
                return existing.current
            }
            let fresh = Base64URL.encode(SecureRandom.bytes(16))
            state = (fresh, state?.current, now)
            return fresh
        }
    }

    /// The nonces a proof may carry now. Derived nonces allow the next interval's too: another broker's clock
    /// may run a little ahead.
    public func valid(now: Date) -> Set<String> {
        if secret != nil {
            let window = window(now)
            return Set([window - 1, window, window + 1].map(derived))
        }
        let current = current(now: now)
        return state.withLock { state in Set([current] + (state?.previous.map { [$0] } ?? [])) }
    }

    private func window(_ now: Date) -> Int64 {
        Int64((now.timeIntervalSince1970 / interval).rounded(.down))
    }

    private func derived(window: Int64) -> String {
        guard let secret else { return "" }
        var message = Array("writ dpop nonce ".utf8)
        withUnsafeBytes(of: window.bigEndian) { message.append(contentsOf: $0) }
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: secret)
        return Base64URL.encode(Array(mac).prefix(16))
    }
}
