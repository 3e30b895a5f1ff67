public import Foundation
import Synchronization

/// A token bucket per key (a workload's SPIFFE ID): `rate` requests a second on average, bursts up to
/// `burst`. Buckets idle long enough to be full again are forgotten, so memory follows active callers.
///
/// Where several brokers share a database, the limit is the cluster's: each broker takes an equal share of
/// the rate and the burst (``share(among:)``), so a workload whose requests are spread over the brokers gets
/// the configured limit in all, and one whose requests all reach one broker gets that broker's share.
public final class RateLimiter: Sendable {
    /// Requests a second, sustained, for the whole cluster.
    public let rate: Double
    /// The largest burst, for the whole cluster.
    public let burst: Double
    private let brokers = Atomic<Int>(1)

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

    /// Shares the limit among `count` brokers (at least 1).
    public func share(among count: Int) { brokers.store(max(count, 1), ordering: .releasing) }

    /// How many brokers share the limit.
    public var sharedAmong: Int { brokers.load(ordering: .acquiring) }

    /// Takes one request from `key`'s bucket; returns nil when allowed, or the whole seconds to wait.
    public func admit(_ key: String, now: Date) -> Int? {
        let count = Double(sharedAmong)
        let rate = self.rate / count
        // A burst of at least one request, or no request would ever pass.
        let burst = max(self.burst / count, 1)
        return buckets.withLock { buckets in
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
