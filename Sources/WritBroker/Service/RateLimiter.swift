public import Foundation
import Synchronization

/// A token bucket per key (a workload's SPIFFE ID): `rate` requests a second on average, bursts up to
/// `burst`. Buckets idle long enough to be full again are forgotten, so memory follows active callers.
public final class RateLimiter: Sendable {
    /// Requests a second, sustained.
    public let rate: Double
    /// The largest burst.
    public let burst: Double

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    /// A limiter.
    public init(rate: Double, burst: Double) {
        self.rate = max(rate, 0.001)
        self.burst = max(burst, 1)
    }

    /// Takes one request from `key`'s bucket; returns nil when allowed, or the whole seconds to wait.
    public func admit(_ key: String, now: Date) -> Int? {
        buckets.withLock { buckets in
            if buckets.count > 100_000 { Self.forgetIdle(&buckets, now: now, rate: rate, burst: burst) }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = max(now.timeIntervalSince(bucket.updated), 0)
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
    }

    private static func forgetIdle(_ buckets: inout [String: Bucket], now: Date, rate: Double, burst: Double) {
        let full = burst / rate
        buckets = buckets.filter { now.timeIntervalSince($0.value.updated) < full }
    }
}
