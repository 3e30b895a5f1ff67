public import Foundation
import GRDB
import Synchronization
import WritToken

extension Broker {
    /// How long closed tasks, and records of expired tokens, are kept before pruning.
    public static let closedTaskRetention: TimeInterval = 3600

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
    /// anchor). Works in bounded slices so a large backlog never holds the writer long.
    @discardableResult
    public func prune(auditRetention: TimeInterval) async throws(BrokerError) -> Int {
        let now = clock.now
        let slice = 2000
        let removed = try await write("prune") { db in
            var removed = try RevocationStore.prune(db, before: now, limit: slice)
            removed += try TokenStore.prune(db, expiredBefore: now, limit: slice)
            removed += try TaskStore.prune(
                db,
                closedBefore: now.addingTimeInterval(-Self.closedTaskRetention),
                limit: slice
            )
            removed += try AuditLog.prune(db, before: now.addingTimeInterval(-auditRetention), limit: slice)
            return removed
        }
        feed.prune(now: now)
        openTasks.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
        }
        return removed
    }
}
