import Foundation
import GRDB
import WritPolicy
import WritToken

/// What setting a status bit costs the commit that revokes: `writ bench status-list --commit` builds a SQLite
/// database of this broker's schema holding `tokens` live tokens with status slots, then closes tasks of four
/// tokens each, timing the status update alone (in its own transaction) and the whole close commit (task state,
/// the statuses, the feed entry and the audit entry, through the store as the broker calls it).
package enum StatusMarkingBenchmark {
    /// Medians and 99th percentiles, in milliseconds.
    package struct Result: Sendable {
        package let fill: Double
        package let update: [Double]
        package let close: [Double]
    }

    package static func run(path: String, tokens: Int, rounds: Int) async throws -> Result {
        let database = try BrokerDatabase(path: path)
        let stores = BrokerStores.sqlite(database)
        let now = Date()
        let filling = ContinuousClock.now
        try await fill(database, tokens: tokens, now: now)
        let fill = milliseconds(ContinuousClock.now - filling)
        var update: [Double] = []
        var close: [Double] = []
        for round in 0..<rounds {
            for kind in ["update", "close"] {
                let id = "bench-\(kind)-\(round)"
                let task = try benchTask(id)
                try await insert(task, into: database, slots: round * 8, now: now)
                let started = ContinuousClock.now
                if kind == "update" {
                    // The statement alone, timed inside its transaction.
                    update.append(
                        try await database.write { db in
                            let statement = ContinuousClock.now
                            try StatusRows.markRevoked(db, taskIDs: [id])
                            return milliseconds(ContinuousClock.now - statement)
                        }
                    )
                } else {
                    _ = try await stores.tasks.close(
                        id,
                        .complete,
                        actor: "bench",
                        reason: nil,
                        at: Date(),
                        minimumRetention: 60
                    )
                    close.append(milliseconds(ContinuousClock.now - started))
                }
            }
        }
        return Result(fill: fill, update: update, close: close)
    }

    /// An open task with a grant for documents.
    private static func benchTask(_ id: String) throws -> BrokerTask {
        let grant = Grant(
            authorizationDetails: [AuthorizationDetail(type: "document", actions: ["read"])],
            taskDuration: 3600,
            tokenLifetime: 300,
            delegationDepth: 0,
            bearerTokensAllowed: true
        )
        let descriptor = try TaskDescriptor(
            json: .object([
                "type": .string("bench"),
                "authorization_details": .array([grant.authorizationDetails[0].json]),
            ])
        )
        let workload = try SPIFFEID("spiffe://example.org/agents/bench")
        return BrokerTask(
            opening: descriptor,
            id: id,
            acting: WorkloadIdentity(id: workload, attestation: .jwtSVID),
            createdBy: workload,
            user: nil,
            grant: grant,
            parent: nil,
            now: Date()
        )
    }

    /// `tokens` rows of another task's tokens, so the statement runs against a full table.
    private static func fill(_ database: BrokerDatabase, tokens: Int, now: Date) async throws {
        try await database.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO tokens (jti, task_id, workload, subject, audience, issued_at, expires_at, binding,
                        status_list, status_index)
                    VALUES (?, ?, 'spiffe://example.org/agents/bench', 'spiffe://example.org/agents/bench',
                        'https://docs.example.org', ?, ?, 'bearer', 'bench.0', ?)
                    """
            )
            let issued = StoredTime.milliseconds(now.wholeSeconds)
            let expires = StoredTime.milliseconds(now.addingTimeInterval(3600).wholeSeconds)
            for index in 0..<tokens {
                try statement.execute(arguments: ["tok-\(index)", "other-\(index / 4)", issued, expires, index])
            }
        }
    }

    /// A task with four tokens, holding status indices from `firstIndex`.
    private static func insert(
        _ task: BrokerTask,
        into database: BrokerDatabase,
        slots firstIndex: Int,
        now: Date
    )
        async throws
    {
        try await database.write { db in
            try TaskRows.insert(db, task)
            for slot in 0..<4 {
                try TokenRows.insert(
                    db,
                    IssuedToken(
                        id: "\(task.id)-\(slot)",
                        taskID: task.id,
                        workload: task.workload.description,
                        subject: task.workload.description,
                        audience: "https://docs.example.org",
                        issuedAt: now,
                        expiresAt: now.addingTimeInterval(300),
                        binding: "bearer",
                        status: StatusSlot(list: "bench.1", index: firstIndex + slot)
                    )
                )
            }
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
