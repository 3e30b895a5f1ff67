import Foundation
import Testing
import WritBroker
import WritTestSupport
import WritToken

/// What the PostgreSQL store must hold beyond the conformance suite: several brokers writing to one database,
/// and an audit chain that shows tampering.
@Suite("The PostgreSQL store, shared and tampered with")
struct PostgresStoreTests {
    /// Runs `body` with stores on a new database of the tests' server, as `count` brokers would open them; the
    /// database is empty unless `migrated`.
    static func withShared<Result: Sendable>(
        _ count: Int,
        migrated: Bool = true,
        _ body: ([BrokerStores]) async throws -> Result
    ) async throws -> Result {
        try await TestPostgreSQL.withDatabase(migrated: migrated) { _, name in
            var databases: [PostgresDatabase] = []
            defer { for database in databases { database.close() } }
            for _ in 0..<count { databases.append(try await TestPostgreSQL.open(name)) }
            return try await body(databases.map(BrokerStores.postgres))
        }
    }

    @Test("brokers starting together on a new database make one first signing key between them")
    func firstStart() async throws {
        try await Self.withShared(3, migrated: false) { stores in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "writ-keys-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let now = Date()
            let actives = try await withThrowingTaskGroup(of: String.self) { group in
                for store in stores {
                    group.addTask {
                        let keys = store.keys
                        return try await store.serializedStartup {
                            try await SigningKeys.loadOrCreate(store: keys, directory: directory, now: now)
                        }.active.id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(actives.count == 1, "each broker signs with the one key made")
            #expect(try await stores[0].keys.listUnretired().count == 1)
        }
    }

    @Test("brokers count each other by heartbeat: one gone silent stops counting, one that leaves at once")
    func membership() async throws {
        try await Self.withShared(2) { stores in
            let first = try #require(stores[0].membership)
            let second = try #require(stores[1].membership)
            let now = Date()
            #expect(try await first.heartbeat(broker: "a", now: now, window: 15) == 1)
            #expect(try await second.heartbeat(broker: "b", now: now.addingTimeInterval(1), window: 15) == 2)
            #expect(try await first.heartbeat(broker: "a", now: now.addingTimeInterval(5), window: 15) == 2)
            // b stops: past the window only a counts.
            #expect(try await first.heartbeat(broker: "a", now: now.addingTimeInterval(20), window: 15) == 1)
            #expect(try await second.heartbeat(broker: "b", now: now.addingTimeInterval(21), window: 15) == 2)
            try await second.leave(broker: "b")
            #expect(try await first.heartbeat(broker: "a", now: now.addingTimeInterval(22), window: 15) == 1)
        }
    }

    @Test("brokers writing at once to one database get one gapless feed and one intact audit chain")
    func concurrentBrokers() async throws {
        try await Self.withShared(3) { stores in
            let now = Date()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (broker, store) in stores.enumerated() {
                    for index in 0..<15 {
                        group.addTask {
                            _ = try await store.revocations.revoke(
                                .user("user-\(broker)-\(index)"),
                                actor: "operator:\(broker)",
                                at: now,
                                retention: 600
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let page = try await stores[1].revocations.page(after: 0, limit: 1000)
            #expect(page.entries.map(\.sequence) == Array(1...45))
            #expect(page.last == 45)
            let report = try await stores[2].audit.report(against: nil)
            #expect(report.problem == nil)
            #expect(report.entries == 45)
            #expect(report.last == 45)
        }
    }

    @Test(
        "tampering with the audit chain is found at the entry it touched, and writing goes on after a cut end",
        arguments: [
            ("UPDATE audit SET subject = 'forged' WHERE seq = 3", Int64(3)),
            ("DELETE FROM audit WHERE seq = 4", 4),
            ("DELETE FROM audit WHERE seq >= 5", 5),
            ("UPDATE audit SET prev_hash = hash WHERE seq = 2", 2),
        ]
    )
    func tampering(statement: String, location: Int64) async throws {
        try await TestPostgreSQL.withDatabase { server, name in
            let database = try await TestPostgreSQL.open(name)
            defer { database.close() }
            let stores = BrokerStores.postgres(database)
            for index in 1...6 {
                try await stores.audit.append(
                    AuditEvent("test.event", actor: "tester", subject: "s\(index)"),
                    at: Date()
                )
            }
            #expect(try await stores.audit.report(against: nil).problem == nil)
            try await server.sql(statement, database: name)
            #expect(try await stores.audit.report(against: nil).problem?.sequence == location, "\(statement)")
            // The broker keeps auditing; the damage stays visible.
            try await stores.audit.append(AuditEvent("test.after", actor: "tester", subject: "s7"), at: Date())
            #expect(
                try await stores.audit.report(against: nil).problem?.sequence == location,
                "\(statement), then more"
            )
        }
    }
}
