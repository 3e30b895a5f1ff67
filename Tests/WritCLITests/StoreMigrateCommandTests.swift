import ArgumentParser
import Foundation
import Testing
import WritBroker
import WritCLI
import WritTestSupport
import WritToken

/// `writ store migrate`, run as an operator runs it.
@Suite("writ store migrate")
struct StoreMigrateCommandTests {
    @Test(
        "copies a stopped broker's records into an empty database once; refuses a second time, a running broker, no target"
    )
    func migrate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = StateDirectory(path: directory.path)
        try state.prepare()
        let stores = try BrokerStores.sqlite(path: state.database.path)
        _ = try await stores.revocations.revoke(.user("mallory"), actor: "op", at: Date(), retention: 600)
        try await stores.audit.append(AuditEvent("test", actor: "op", subject: "s"), at: Date())

        let server = try await PostgreSQLServer.shared()
        let name = try await server.createDatabase()
        let url = server.url(database: name)

        let copied = await (try StoreMigrateCommand.parse(["--state", directory.path, "--to", url])).outcome()
        #expect(copied.exitCode == 0, "\(copied.output)")
        #expect(copied.output.contains("feed entries"))
        #expect(copied.output.contains("checked"))
        let subjects = try await server.sql("SELECT kind || ':' || subject FROM revocations", database: name)
        #expect(subjects.trimmingCharacters(in: .whitespacesAndNewlines) == "user:mallory")
        #expect(try await server.sql("SELECT COUNT(*) FROM audit", database: name).contains("2"))

        let again = await (try StoreMigrateCommand.parse(["--state", directory.path, "--to", url])).outcome()
        #expect(again.exitCode == 1)
        #expect(again.output.contains("store_migrate_failed"))
        #expect(again.output.contains("empty"))

        let nowhere = await (try StoreMigrateCommand.parse(["--state", directory.path])).outcome()
        #expect(nowhere.exitCode == 2)

        let lock = try BrokerLock(state: state)
        let running = await (try StoreMigrateCommand.parse(["--state", directory.path, "--to", url])).outcome()
        #expect(running.exitCode == 2)
        #expect(running.output.contains("stop it first"))
        _ = lock
    }
}

/// `writ operator …` where the broker keeps its records in PostgreSQL.
@Suite("writ operator on PostgreSQL", .serialized)
struct OperatorOnPostgreSQLTests {
    @Test(
        "operators are made, listed and revoked in the configured database; one at another schema is refused untouched"
    )
    func operators() async throws {
        let server = try await PostgreSQLServer.shared()
        let name = try await server.createDatabase()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("writ-cfg-\(UUID().uuidString).yaml")
        try "development: true\nstore: \(server.url(database: name))\n".write(
            to: file,
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(at: file) }

        // No broker has migrated it yet: refused, and left as it was.
        let early = await (try ListOperatorsCommand.parse(["--config", file.path])).outcome()
        #expect(early.exitCode == 2)
        #expect(early.output.contains("writ serve"))
        #expect(
            try await server.sql("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'tasks'", database: name).contains(
                "0"
            )
        )

        let database = try await PostgresDatabase(try PostgresLocation(url: server.url(database: name)))
        database.close()
        let created = await (try CreateOperatorCommand.parse(["scraper", "--role", "metrics", "--config", file.path]))
            .outcome()
        #expect(created.exitCode == 0, "\(created.output)")
        let row = try await server.sql("SELECT name || ':' || role FROM operators", database: name)
        #expect(row.trimmingCharacters(in: .whitespacesAndNewlines) == "scraper:metrics")
        let listed = await (try ListOperatorsCommand.parse(["--config", file.path])).outcome()
        #expect(listed.output.contains("scraper"))
        let revoked = await (try RevokeOperatorCommand.parse(["scraper", "--config", file.path])).outcome()
        #expect(revoked.exitCode == 0, "\(revoked.output)")
        #expect(
            try await server.sql("SELECT COUNT(*) FROM operators WHERE revoked_at IS NOT NULL", database: name)
                .contains("1")
        )
    }

    @Test("audit verify --config walks the configured database's chain on the host and names a tampered entry")
    func auditVerify() async throws {
        let server = try await PostgreSQLServer.shared()
        let name = try await server.createDatabase()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("writ-cfg-\(UUID().uuidString).yaml")
        try "development: true\nstore: \(server.url(database: name))\n".write(
            to: file,
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(at: file) }
        let database = try await PostgresDatabase(try PostgresLocation(url: server.url(database: name)))
        let audit = BrokerStores.postgres(database).audit
        for index in 0..<4 {
            _ = try await audit.append(AuditEvent("test.event", actor: "test", subject: "s\(index)"), at: Date())
        }
        database.close()
        let intact = await (try AuditVerifyCommand.parse(["--config", file.path, "--json"])).outcome()
        #expect(intact.exitCode == 0, "\(intact.output)")
        #expect(intact.output.contains("\"entries\":4"), "\(intact.output)")
        _ = try await server.sql("UPDATE audit SET subject = 'forged' WHERE seq = 3", database: name)
        let broken = await (try AuditVerifyCommand.parse(["--config", file.path, "--json"])).outcome()
        #expect(broken.exitCode == 1, "\(broken.output)")
        #expect(broken.output.contains("3"), "\(broken.output)")
    }
}
