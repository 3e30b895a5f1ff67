import Foundation
import GRDB
import WritPolicy
import WritToken

/// ``TaskStore`` over the SQLite database.
struct SQLiteTaskStore: TaskStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func insert(
        _ task: BrokerTask,
        openTaskLimit: Int,
        audit: AuditEvent,
        whileCommitting: @escaping @Sendable (BrokerTask) -> Void
    ) async throws -> TaskInsertion {
        try await database.write { db in
            if let parent = task.parentID, try TaskRows.state(db, id: parent) != .open { return .parentClosed }
            if let entry = try RevocationRows.fetchRefusing(
                db,
                workloads: [task.workload, task.createdBy] + task.actors,
                user: task.user?.subject,
                now: task.createdAt
            ) {
                return .refused(entry)
            }
            // The quota is the creator's: a workload cannot use delegation to exhaust another's.
            guard try TaskRows.countOpen(db, createdBy: task.createdBy) < openTaskLimit else {
                return .overLimit(openTaskLimit)
            }
            try TaskRows.insert(db, task)
            try AuditRows.append(db, audit, at: task.createdAt)
            whileCommitting(task)
            return .inserted
        }
    }

    func fetch(id: String) async throws -> BrokerTask? {
        try await database.read { db in try TaskRows.fetch(db, id: id) }
    }

    func updateHeartbeat(id: String, at date: Date) async throws -> Bool {
        try await database.write { db in try TaskRows.updateHeartbeat(db, id: id, at: date) }
    }

    func close(
        _ id: String,
        _ event: TaskEvent,
        actor: String,
        reason: String?,
        at date: Date,
        minimumRetention: TimeInterval
    ) async throws -> TaskClosure? {
        try await database.write { db in
            guard let state = try TaskRows.state(db, id: id), let next = event.next(from: state) else { return nil }
            let subtree = try TaskRows.openSubtree(db, root: id)
            let because = reason ?? "\(next.rawValue) by \(actor)"
            var closed = try TaskRows.close(db, ids: [id], state: next, reason: because, at: date)
            closed += try TaskRows.close(
                db,
                ids: Array(subtree.dropFirst()),
                state: .aborted,
                reason: "parent task \(next.rawValue)",
                at: date
            )
            var revocations: [Revocation] = []
            for closedID in closed {
                // Kept while any of the task's tokens lives, so every verifier that may meet one learns of it.
                let retain = max(
                    try TokenRows.latestExpiry(db, taskID: closedID) ?? date,
                    date.addingTimeInterval(minimumRetention)
                )
                let revocation = try RevocationRows.insert(
                    db,
                    .task(closedID),
                    revokedAt: date,
                    retainUntil: retain,
                    actor: actor
                )
                revocations.append(revocation)
                let event = TaskClosure.auditEvent(
                    closing: closedID,
                    root: id,
                    state: next,
                    reason: because,
                    actor: actor,
                    revocation: revocation
                )
                try AuditRows.append(db, event, at: date)
            }
            let tokens = try TokenRows.countLive(db, taskIDs: closed, now: date)
            return TaskClosure(state: next, tasks: closed, revocations: revocations, liveTokens: tokens)
        }
    }

    func listDue(now: Date, limit: Int) async throws -> [String] {
        try await database.read { db in try TaskRows.listDue(db, now: now, limit: limit) }
    }

    func prune(closedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { db in try TaskRows.prune(db, closedBefore: cutoff, limit: limit) }
    }
}
