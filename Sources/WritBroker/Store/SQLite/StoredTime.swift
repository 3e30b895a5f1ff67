import Foundation

/// How the database holds time: every instant as INTEGER milliseconds since 1970 (UTC), every duration as
/// INTEGER milliseconds. Every row mapping and every query argument converts through here, so one column never
/// differs from another in unit or rounding.
///
/// Instants the token profile keeps in whole seconds (a token's `iat` and `exp`, revocation times and cutoffs, a
/// proof's expiry) are passed as `date.wholeSeconds`, so they are stored as whole seconds × 1000 and compare with
/// each other exactly as the seconds do.
enum StoredTime {
    /// The instant in whole milliseconds since 1970, rounded down (as audit entries have always been stamped).
    static func milliseconds(_ date: Date) -> Int64 {
        milliseconds(seconds: date.timeIntervalSince1970)
    }

    /// The instant a stored value names.
    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: seconds(milliseconds))
    }

    /// A duration in whole milliseconds, rounded down.
    static func milliseconds(duration: TimeInterval) -> Int64 {
        milliseconds(seconds: duration)
    }

    /// The duration a stored value names.
    static func duration(_ milliseconds: Int64) -> TimeInterval {
        seconds(milliseconds)
    }

    /// Seconds to whole milliseconds, rounded down. A millisecond has no exact binary fraction, so a value read
    /// back from the database can come out a fraction of a microsecond below its millisecond; the microsecond's
    /// allowance keeps it on that millisecond, so a stored time always stores again as itself.
    static func milliseconds(seconds: Double) -> Int64 {
        Int64((seconds * 1000 + 0.001).rounded(.down))
    }

    private static func seconds(_ milliseconds: Int64) -> Double {
        Double(milliseconds) / 1000
    }
}
