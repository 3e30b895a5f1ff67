import Foundation
import GRDB
import Testing
import WritToken

@testable import WritBroker

@Suite("Schema migrations")
struct MigrationTests {
    @Test("a database made before key rotation (schema v2) migrates; its key still signs and its tasks list")
    func fromVersion2() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "writ-migrate-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = StateDirectory(path: directory.path)
        try state.prepare()
        let now = Date()
        // The broker as it was: the schema up to v2, one signing key.
        do {
            let pool = try DatabasePool(path: state.database.path)
            try BrokerDatabase.migrator.migrate(pool, upTo: "v2")
            let (key, file) = try SigningKeys.generate(directory: state.keys)
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO signing_keys (kid, algorithm, file, created_at) VALUES (?, 'ES256', ?, ?)",
                    arguments: [key.id, file, now.timeIntervalSince1970]
                )
            }
            try pool.close()
        }
        let database = try BrokerDatabase(path: state.database.path)
        let applied = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(applied == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"])
        let keys = try await SigningKeys.loadOrCreate(
            store: BrokerStores.sqlite(database).keys,
            directory: state.keys,
            now: now
        )
        #expect(keys.records.count == 1)
        #expect(keys.records.first?.activatesAt == nil)
        #expect(keys.records.first?.state(activeID: keys.active.id, now: now) == "active")
        let indexes = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'")
        }
        #expect(indexes.contains("tasks_by_created"))
    }

    @Test("a database at schema v4 migrates to milliseconds and every value reads back the same through the stores")
    func fromVersion4() async throws {
        let (path, directory) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lastEntry = try Version4Database.write(at: path)
        let indexesBefore = try Self.indexes(at: path)
        let stores = try BrokerStores.sqlite(path: path)

        for task in Version4Database.tasks {
            #expect(try await stores.tasks.fetch(id: task.stored.id) == task.expected)
        }
        for token in Version4Database.tokens {
            #expect(try await stores.tokens.fetch(id: token.id) == token)
        }
        #expect(try await stores.revocations.list(after: 0, limit: 100) == Version4Database.revocations)
        #expect(try await stores.revocations.page(after: 0, limit: 1).last == 8)
        #expect(try await stores.keys.list() == Version4Database.keys.map(\.expected))
        #expect(try await stores.operators.list() == Version4Database.operators.map(\.expected))
        #expect(try await stores.operators.isRevoked(id: "op-2"))
        #expect(try await !stores.operators.isRevoked(id: "op-1"))

        // The audit chain verifies, from its pruning anchor and against an anchor kept outside before.
        let anchor = AuditLog.Anchor(sequence: lastEntry.sequence, hash: lastEntry.hash)
        #expect(
            try await stores.audit.report(against: anchor) == AuditLog.Report(problem: nil, entries: 3, last: 5)
        )
        #expect(try await stores.audit.list(after: 0, limit: 10).last == lastEntry)

        // The proof is still single use, and pruned at the same whole second as before.
        let replay = Version4Database.tokens[1]
        var fresh = replay
        fresh.id = "t-new"
        let event = AuditEvent("token.issued", actor: "test", subject: fresh.id)
        let proof = Version4Database.proof
        #expect(try await stores.tokens.insert(fresh, proof: proof, audit: event, at: fresh.issuedAt) == .proofReplayed)
        _ = try await stores.tokens.prune(expiredBefore: proof.expiresAt.addingTimeInterval(0.5), limit: 10)
        #expect(try await stores.tokens.insert(fresh, proof: proof, audit: event, at: fresh.issuedAt) == .proofReplayed)
        _ = try await stores.tokens.prune(expiredBefore: proof.expiresAt.addingTimeInterval(1), limit: 10)
        #expect(try await stores.tokens.insert(fresh, proof: proof, audit: event, at: fresh.issuedAt) == .recorded)

        // Keys start signing at their activation time, to the millisecond.
        let pending = try #require(try await stores.keys.list().last)
        #expect(pending.signs(at: Version4Database.at(100.000_4)))
        #expect(!pending.signs(at: Version4Database.at(99.998)))

        // A missed heartbeat is due as before: the last one at 12.3456789 s, two 30 s intervals allowed.
        #expect(try await stores.tasks.listDue(now: Version4Database.at(72.345), limit: 10) == [])
        #expect(try await stores.tasks.listDue(now: Version4Database.at(72.346), limit: 10) == ["root"])

        let tables = try Self.columns(at: path)
        #expect(tables.values.joined().filter { $0.type == "REAL" }.isEmpty)
        #expect(tables["tasks"]?.first { $0.name == "heartbeat_interval" }?.type == "INTEGER")
        // The v5 rebuild keeps every index; v7 adds the one status lists are read by, and signal streams'.
        var indexesAfter = indexesBefore
        indexesAfter["tokens_revoked_by_list"] =
            "CREATE INDEX tokens_revoked_by_list ON tokens(status_list, status_index) WHERE status = 1"
        indexesAfter["ssf_streams_by_receiver"] =
            "CREATE INDEX ssf_streams_by_receiver ON ssf_streams(receiver, created_at)"
        indexesAfter["monitoring_alerts_by_workload"] =
            "CREATE INDEX monitoring_alerts_by_workload ON monitoring_alerts(workload, id)"
        indexesAfter["monitoring_alerts_by_time"] = "CREATE INDEX monitoring_alerts_by_time ON monitoring_alerts(at)"
        #expect(try Self.indexes(at: path) == indexesAfter)
        let check = try DatabaseQueue(path: path)
        defer { try? check.close() }
        let stored = try await check.read { db in
            (
                violations: try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count,
                parents: try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list('tasks')"),
                heartbeat: try Int64.fetchOne(db, sql: "SELECT last_heartbeat FROM tasks WHERE id = 'root'"),
                interval: try Int64.fetchOne(db, sql: "SELECT heartbeat_interval FROM tasks WHERE id = 'done'"),
                issued: try Int64.fetchOne(db, sql: "SELECT issued_at FROM tokens WHERE jti = 't-at'"),
                sequence: try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocations'")
            )
        }
        #expect(stored.violations == 0)
        #expect(stored.parents == ["tasks"])
        #expect(stored.heartbeat == 1_800_000_012_345)
        #expect(stored.interval == 7_500)
        #expect(stored.issued == Version4Database.cutoff * 1000)
        #expect(stored.sequence == 8)
    }

    @Test("after the migration, issued-before covers exactly the tokens whose whole-second iat is below the cutoff")
    func issuedBeforeAfterMigration() async throws {
        let (path, directory) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Version4Database.write(at: path)
        let database = try BrokerDatabase(path: path)
        let stores = BrokerStores.sqlite(database)
        let cutoff = Version4Database.cutoff
        let now = Version4Database.second(cutoff + 10)

        // The v4 entry cuts at `cutoff`: the tokens of the second before are covered, the one of that second is not.
        let tree = try #require(try await stores.tasks.fetchTree(id: "root"))
        let revoked = Dictionary(uniqueKeysWithValues: tree.tokens.map { ($0.token.id, $0.revoked) })
        #expect(revoked == ["t-before": true, "t-at": false, "t-after": true, "t-child": true])

        // Only "t-at" (iat = cutoff) is live and not yet covered; a new cutoff covers it once it rounds past it.
        let live = Version4Database.tokens[1]
        let claims = AccessTokenClaims(
            issuer: "https://broker.test",
            subject: live.subject,
            audience: live.audience,
            expiresAt: live.expiresAt,
            issuedAt: live.issuedAt,
            tokenID: live.id,
            clientID: Version4Database.agent,
            actorChain: [],
            taskID: live.taskID,
            authorizationDetails: []
        )
        let offsets = [-1.0, -0.001, 0, 0.000_4, 0.001, 0.999, 1, 1.001]
        for offset in offsets {
            let time = Version4Database.second(cutoff).addingTimeInterval(offset)
            for scope in [nil, Version4Database.agent, Version4Database.delegate] {
                let entry = Revocation(
                    sequence: 1,
                    subject: .issuedBefore(time, workload: scope),
                    revokedAt: now,
                    retainUntil: now
                )
                let counted = try await database.read { db in
                    try TokenRows.countLive(db, issuedBefore: Revocation.cutoff(time), scope: scope, now: now)
                }
                #expect(
                    counted == (entry.covers(claims) ? 1 : 0),
                    "cutoff \(offset), scope \(scope?.description ?? "any")"
                )
            }
        }
        let write = try await stores.revocations.revoke(
            .issuedBefore(Version4Database.second(cutoff).addingTimeInterval(0.001), workload: nil),
            actor: "test",
            at: now,
            retention: 3600
        )
        guard case .revoked(let outcome) = write else {
            Issue.record("the revocation was refused: \(write)")
            return
        }
        #expect(outcome.tokens == 1)
        #expect(outcome.revocations.first?.subject == .issuedBefore(Version4Database.second(cutoff + 1), workload: nil))
        #expect(try await database.read { db in try TokenRows.isRevoked(db, id: "t-at") })
    }

    @Test("a new database stores no time as REAL: every time column is INTEGER")
    func noRealColumns() throws {
        let (path, directory) = try Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The check can fail: schema v4 has REAL time columns.
        let old = try DatabaseQueue(path: path + ".v4")
        try BrokerDatabase.migrator.migrate(old, upTo: "v4")
        try old.close()
        #expect(try Self.columns(at: path + ".v4").values.joined().contains { $0.type == "REAL" })

        _ = try BrokerDatabase(path: path)
        let tables = try Self.columns(at: path)
        #expect(tables.values.joined().filter { $0.type == "REAL" }.isEmpty)
        let times = [
            "created_at", "deadline", "heartbeat_interval", "last_heartbeat", "closed_at", "issued_at",
            "expires_at", "before", "revoked_at", "retain_until", "at_ms", "activates_at", "retires_at", "retired_at",
            "at", "updated_at",
        ]
        let timeColumns = tables.flatMap { table, columns in
            columns.filter { times.contains($0.name) }.map { (table, $0) }
        }
        #expect(timeColumns.count == 22)
        for (table, column) in timeColumns {
            #expect(column.type == "INTEGER", "\(table).\(column.name)")
        }
    }

    static func temporaryPath() throws -> (String, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "writ-migrate-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory.appendingPathComponent("writ.sqlite").path, directory)
    }

    /// Every table's columns, by table, from `PRAGMA table_info`.
    static func columns(at path: String) throws -> [String: [(name: String, type: String)]] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            let tables = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            var columns: [String: [(name: String, type: String)]] = [:]
            for table in tables {
                columns[table] = try Row.fetchAll(
                    db,
                    sql: "SELECT name, type FROM pragma_table_info(?)",
                    arguments: [table]
                )
                .map { (name: $0["name"], type: $0["type"]) }
            }
            return columns
        }
    }

    /// Every index with its definition.
    static func indexes(at path: String) throws -> [String: String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db,
                    sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                ).map { ($0["name"], $0["sql"]) }
            )
        }
    }
}

extension Version4Database {
    /// The grant as the broker stores it. Here, apart from the fixture: WritPolicy has a `Grant.json` of its own
    /// (for explanations), and this file does not import it.
    static func storedGrant(of task: BrokerTask) -> String { JSONWriter.string(task.grant.json) }
}
