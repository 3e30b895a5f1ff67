public import Foundation
import Synchronization
public import WritToken

/// A clock tests move by hand: fixed at a start time, or following the real clock, plus whatever the test
/// advanced it by.
public final class AdjustableClock: WritClock {
    private let offset: Mutex<TimeInterval>
    private let fixedStart: Date?

    /// A clock reading `start` until advanced.
    public init(_ start: Date = TestIdentity.now) {
        fixedStart = start
        offset = Mutex(0)
    }

    /// A clock that reads the real time plus what it was advanced by: for tests whose other parties (an agent
    /// making DPoP proofs, a verifier) read the real clock, however long the test takes on a busy machine.
    public init(followingRealTime: Void) {
        fixedStart = nil
        offset = Mutex(0)
    }

    /// The time it reads.
    public var now: Date { (fixedStart ?? Date()).addingTimeInterval(offset.withLock { $0 }) }

    /// Moves the clock forward.
    public func advance(by interval: TimeInterval) { offset.withLock { $0 += interval } }
}
