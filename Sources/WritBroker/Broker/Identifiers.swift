import Foundation
import WritToken

/// Identifiers that sort by creation time (a millisecond timestamp, then randomness), so inserts land at the
/// end of the store's indexes instead of at random places.
enum Identifiers {
    static func task(now: Date) -> String { "tsk_" + timeOrdered(now: now, randomBytes: 10) }
    static func token(now: Date) -> String { timeOrdered(now: now, randomBytes: 12) }

    private static func timeOrdered(now: Date, randomBytes: Int) -> String {
        let milliseconds = UInt64(max(now.timeIntervalSince1970 * 1000, 0))
        var hex = String(milliseconds, radix: 16)
        hex = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        return hex + Base64URL.encode(SecureRandom.bytes(randomBytes))
    }
}
