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

        let server = try PostgreSQLServer()
        defer { server.stop() }
        let name = try server.createDatabase()
        let url = server.url(database: name)

        let copied = await (try StoreMigrateCommand.parse(["--state", directory.path, "--to", url])).outcome()
        #expect(copied.exitCode == 0, "\(copied.output)")
        #expect(copied.output.contains("feed entries"))
        #expect(copied.output.contains("checked"))
        let subjects = try server.sql("SELECT kind || ':' || subject FROM revocations", database: name)
        #expect(subjects.trimmingCharacters(in: .whitespacesAndNewlines) == "user:mallory")
        #expect(try server.sql("SELECT COUNT(*) FROM audit", database: name).contains("2"))

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
