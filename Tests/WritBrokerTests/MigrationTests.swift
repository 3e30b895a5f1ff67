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
        #expect(applied == ["v1", "v2", "v3", "v4"])
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
}
