public import Foundation
import Synchronization
public import WritToken

/// A clock tests move by hand.
public final class AdjustableClock: WritClock {
    private let current: Mutex<Date>

    /// A clock reading `start`.
    public init(_ start: Date = TestIdentity.now) { current = Mutex(start) }

    /// The time it reads.
    public var now: Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by interval: TimeInterval) { current.withLock { $0 += interval } }
}
