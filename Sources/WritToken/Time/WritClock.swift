public import Foundation

/// Where verification reads the time; injected so tests and tools can fix it.
public protocol WritClock: Sendable {
    /// The current time.
    var now: Date { get }
}

/// The system's wall clock.
public struct SystemClock: WritClock {
    /// Creates the system clock.
    public init() {}
    /// The current time.
    public var now: Date { Date() }
}

/// A clock that always reads the same time.
public struct FixedClock: WritClock {
    /// The time it reads.
    public let now: Date
    /// A clock fixed at a time.
    public init(_ now: Date) { self.now = now }
}
