import Foundation
import Testing

@testable import WritBroker

/// The rate limit as a cluster's: shared equally among the brokers alive.
@Suite("Rate limits")
struct RateLimiterTests {
    /// How many requests pass at once (the burst), then after `seconds` more.
    static func passed(_ limiter: RateLimiter, key: String, at start: Date, thenAfter seconds: Double) -> (Int, Int) {
        var first = 0
        while limiter.admit(key, now: start) == nil { first += 1 }
        var later = 0
        let then = start.addingTimeInterval(seconds)
        while limiter.admit(key, now: then) == nil { later += 1 }
        return (first, later)
    }

    @Test("one broker takes the whole limit; among four, each takes a quarter of the rate and the burst")
    func shared() {
        let start = Date()
        let alone = RateLimiter(rate: 20, burst: 40)
        #expect(Self.passed(alone, key: "w", at: start, thenAfter: 1) == (40, 20))
        let quarter = RateLimiter(rate: 20, burst: 40)
        quarter.share(among: 4)
        #expect(quarter.sharedAmong == 4)
        #expect(Self.passed(quarter, key: "w", at: start, thenAfter: 1) == (10, 5))
        // A refused request says how long to wait at the broker's share of the rate.
        #expect(quarter.admit("w", now: start.addingTimeInterval(1)) == 1)
    }

    @Test("a share never drops the burst below one request, and a count below one means one broker")
    func floors() {
        let start = Date()
        let limiter = RateLimiter(rate: 1, burst: 2)
        limiter.share(among: 8)
        #expect(Self.passed(limiter, key: "w", at: start, thenAfter: 8) == (1, 1))
        limiter.share(among: 0)
        #expect(limiter.sharedAmong == 1)
    }
}
