public import Foundation
import Synchronization

/// Remembers DPoP proof ids for as long as a proof could still be accepted, in bounded memory.
///
/// When the cache is full of ids that are still live, new proofs are refused rather than letting an old id
/// be forgotten early, which would reopen it to replay. Each key may hold at most ``perKeyCapacity`` live
/// ids, so one client flooding proofs fills its own share, not everyone's.
public final class DPoPReplayCache: Sendable {
    /// The outcome of recording a proof id.
    public enum Outcome: Sendable, Hashable {
        /// First sighting: the proof may be used.
        case fresh
        /// Seen before, within its lifetime.
        case replayed
        /// The cache is full of live ids; the proof is refused.
        case full
    }

    struct State {
        var expiries: [String: Date] = [:]
        var order: [(id: String, key: String, expiry: Date)] = []
        var head = 0
        var perKey: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// The most ids held at once.
    public let capacity: Int
    /// The most live ids one key may hold.
    public let perKeyCapacity: Int

    /// Creates a cache holding at most `capacity` ids, at most `perKeyCapacity` of them for one key.
    public init(capacity: Int = 100_000, perKeyCapacity: Int? = nil) {
        self.capacity = capacity
        self.perKeyCapacity = perKeyCapacity ?? max(1, capacity / 10)
    }

    /// How many ids are held.
    public var count: Int { state.withLock { $0.expiries.count } }

    /// Records a proof id (scoped by its key thumbprint) until `expiry`.
    public func record(id: String, keyThumbprint: String, expiry: Date, now: Date) -> Outcome {
        let key = keyThumbprint + "." + id
        return state.withLock { state in
            // Expiries are inserted in time order, so the oldest are always at the head.
            while state.head < state.order.count, state.order[state.head].expiry <= now {
                let entry = state.order[state.head]
                if state.expiries[entry.id] == entry.expiry {
                    state.expiries[entry.id] = nil
                    let remaining = (state.perKey[entry.key] ?? 1) - 1
                    state.perKey[entry.key] = remaining > 0 ? remaining : nil
                }
                state.head += 1
            }
            if state.head > 1024, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            if let seen = state.expiries[key], seen > now { return .replayed }
            guard state.expiries.count < capacity, state.perKey[keyThumbprint, default: 0] < perKeyCapacity else {
                return .full
            }
            state.expiries[key] = expiry
            state.perKey[keyThumbprint, default: 0] += 1
            state.order.append((key, keyThumbprint, expiry))
            return .fresh
        }
    }
}
