import Foundation
import PostgresNIO
import WritPolicy
import WritToken

/// Tasks on PostgreSQL.
struct PostgresTaskStore: TaskStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func insert(
        _ task: BrokerTask,
        openTaskLimit: Int,
        audit: AuditEvent,
        whileCommitting: @escaping @Sendable (BrokerTask) -> Void
    ) async throws -> TaskInsertion {
        try await database.write { session in
            if let parent = task.parentID, try await PostgresTaskRows.state(session, id: parent) != .open {
                return .parentClosed
            }
            if let entry = try await PostgresRevocationRows.fetchRefusing(
                session,
                workloads: [task.workload, task.createdBy] + task.actors,
                user: task.user?.subject,
                now: task.createdAt
            ) {
                return .refused(entry)
            }
            // The quota is the creator's: a workload cannot use delegation to exhaust another's.
            guard try await PostgresTaskRows.countOpen(session, createdBy: task.createdBy) < openTaskLimit else {
                return .overLimit(openTaskLimit)
            }
            try await PostgresTaskRows.insert(session, task)
            try await PostgresAuditRows.append(session, audit, at: task.createdAt)
            whileCommitting(task)
            return .inserted
        }
    }

    func fetch(id: String) async throws -> BrokerTask? {
        try await database.read { session in try await PostgresTaskRows.fetch(session, id: id) }
    }

    func updateHeartbeat(id: String, at date: Date) async throws -> Bool {
        try await database.write { session in try await PostgresTaskRows.updateHeartbeat(session, id: id, at: date) }
    }

    func close(
        _ id: String,
        _ event: TaskEvent,
        actor: String,
        reason: String?,
        at date: Date,
        minimumRetention: TimeInterval
    ) async throws -> TaskClosure? {
        try await database.write { session in
            guard let state = try await PostgresTaskRows.state(session, id: id), let next = event.next(from: state)
            else { return nil }
            let subtree = try await PostgresTaskRows.openSubtree(session, root: id)
            let because = reason ?? "\(next.rawValue) by \(actor)"
            var closed = try await PostgresTaskRows.close(session, ids: [id], state: next, reason: because, at: date)
            closed += try await PostgresTaskRows.close(
                session,
                ids: Array(subtree.dropFirst()),
                state: .aborted,
                reason: "parent task \(next.rawValue)",
                at: date
            )
            var revocations: [Revocation] = []
            for closedID in closed {
                // Kept while any of the task's tokens lives, so every verifier that may meet one learns of it.
                let retain = max(
                    try await PostgresTokenRows.latestExpiry(session, taskID: closedID) ?? date,
                    date.addingTimeInterval(minimumRetention)
                )
                let revocation = try await PostgresRevocationRows.insert(
                    session,
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
                try await PostgresAuditRows.append(session, event, at: date)
            }
            let tokens = try await PostgresTokenRows.countLive(session, taskIDs: closed, now: date)
            return TaskClosure(state: next, tasks: closed, revocations: revocations, liveTokens: tokens)
        }
    }

    func listDue(now: Date, limit: Int) async throws -> [String] {
        try await database.read { session in try await PostgresTaskRows.listDue(session, now: now, limit: limit) }
    }

    func prune(closedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { session in
            try await PostgresTaskRows.prune(session, closedBefore: cutoff, limit: limit)
        }
    }
}
