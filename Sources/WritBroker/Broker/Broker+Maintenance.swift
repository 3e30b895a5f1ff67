public import Foundation
import GRDB
import Synchronization
import WritToken

extension Broker {
    /// How long closed tasks, and records of expired tokens, are kept before pruning.
    public static let closedTaskRetention: TimeInterval = 3600
    /// The shortest time an entry stays in the feed, even when it covers no live token, so a subscriber that
    /// is a little behind still receives every entry in order.
    public static let minimumFeedRetention: TimeInterval = 600

    /// Expires every open task that is due (deadline passed, or heartbeats missed); returns how many.
    @discardableResult
    public func expireDueTasks() async throws(BrokerError) -> Int {
        let now = clock.now
        let due = try await read("list due tasks") { db in try TaskStore.listDue(db, now: now, limit: 500) }
        var expired = 0
        for id in due {
            let task = try await task(id: id)
            let missedHeartbeats = task.map { $0.deadline > now } ?? false
            let reason = missedHeartbeats ? "heartbeats missed" : "deadline passed"
            if try await close(id, .expire, actor: "broker", reason: reason) != nil { expired += 1 }
        }
        return expired
    }

    /// Removes what no longer matters: feed entries whose tokens expired, records of expired tokens, closed
    /// tasks long past, and audit entries older than `auditRetention` (the chain stays checkable from its
    /// anchor). Works in slices, each its own short commit, until nothing is left or `maximumSlices` ran,
    /// so a backlog drains without holding the writer long. Returns the rows removed.
    @discardableResult
    public func prune(auditRetention: TimeInterval, maximumSlices: Int = 2000) async throws(BrokerError) -> Int {
        let now = clock.now
        // Small slices: each is one short write in the shared commit queue, so requests keep flowing.
        let slice = 500
        // Never past what the broker's own view has applied, so the view can never be left with a gap.
        let applied = feed.lastSequence
        var total = 0
        for _ in 0..<maximumSlices {
            let removed = try await write("prune") { db in
                [
                    try RevocationStore.prune(db, before: now, through: applied, limit: slice),
                    try TokenStore.prune(db, expiredBefore: now, limit: slice),
                    try ProofStore.prune(db, expiredBefore: now, limit: slice),
                    try TaskStore.prune(
                        db,
                        closedBefore: now.addingTimeInterval(-Self.closedTaskRetention),
                        limit: slice
                    ),
                    try AuditLog.prune(db, before: now.addingTimeInterval(-auditRetention), limit: slice),
                ]
            }
            total += removed.reduce(0, +)
            if removed.allSatisfy({ $0 < slice }) { break }
        }
        feed.prune(now: now)
        openTasks.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
        }
        return total
    }
}
