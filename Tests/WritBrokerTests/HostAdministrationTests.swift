import Foundation
import GRDB
import Testing
import WritBroker
import WritTestSupport

@Suite("Host administration")
struct HostAdministrationTests {
    static func stateDirectory() throws -> StateDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("writ-host-\(UUID().uuidString)")
        let state = StateDirectory(path: url.path)
        try state.prepare()
        return state
    }

    @Test("the CLI's store refuses a missing database and never creates one")
    func missingDatabase() throws {
        let state = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(at: state.url) }
        #expect {
            try HostAdministration(state: state)
        } throws: { error in
            (error as? BrokerDatabase.SchemaMismatch)?.missing == true
        }
        #expect(!FileManager.default.fileExists(atPath: state.database.path))
    }

    @Test("a database behind the schema is not migrated, and the refusal says whether a running broker holds it")
    func behindTheSchema() async throws {
        let state = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(at: state.url) }
        _ = try BrokerStores.sqlite(path: state.database.path)
        // As if an older broker had made it: its last migration is not recorded.
        let queue = try DatabaseQueue(path: state.database.path)
        let last = try await queue.write { db in
            let last = try String.fetchOne(
                db,
                sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1"
            )
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [last])
            return last
        }
        try queue.close()
        var lock: BrokerLock? = try BrokerLock(state: state)
        #expect(BrokerLock.isHeld(in: state))
        #expect {
            try HostAdministration(state: state)
        } throws: { error in
            guard let mismatch = error as? BrokerDatabase.SchemaMismatch else { return false }
            return mismatch.heldByRunningBroker && mismatch.description.contains("a running broker")
        }
        _ = lock
        lock = nil
        // A process another test forks at this moment holds a copy of the descriptor until it execs (O_CLOEXEC
        // closes it then): the lock is released once that copy is gone, within moments.
        for _ in 0..<100 where BrokerLock.isHeld(in: state) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!BrokerLock.isHeld(in: state))
        #expect {
            try HostAdministration(state: state)
        } throws: { error in
            guard let mismatch = error as? BrokerDatabase.SchemaMismatch else { return false }
            return !mismatch.heldByRunningBroker && mismatch.description.contains("start `writ serve`")
        }
        // Still not migrated by the attempts.
        let after = try DatabaseQueue(path: state.database.path)
        let recorded = try await after.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(!recorded.contains(try #require(last)))
    }

    @Test("operators made on the host authenticate at the broker over the same store")
    func operatorsOnTheHost() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let host = try HostAdministration(state: StateDirectory(path: harness.directory.path))
        let token = try await host.createOperator(name: "carol", role: .introspect, by: "cli:test", now: Date())
        let identity = try await harness.broker.operators.authenticate(token, now: harness.clock.now)
        #expect(identity?.name == "carol")
        _ = try await host.revokeOperator(nameOrID: "carol", by: "cli:test", now: Date())
        #expect(try await harness.broker.operators.authenticate(token, now: harness.clock.now) == nil)
        #expect(try await host.listOperators().map(\.name).contains("carol"))
    }

    @Test("the audit check reads the database without writing to it or touching its files' modes")
    func auditCheckIsReadOnly() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let state = StateDirectory(path: harness.directory.path)
        let path = state.database.path
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let before = try FileManager.default.attributesOfItem(atPath: path)
        let report = try HostAdministration.verifyAudit(in: state, against: nil)
        #expect(report.problem == nil && report.entries > 0)
        let after = try FileManager.default.attributesOfItem(atPath: path)
        #expect(after[.posixPermissions] as? Int == 0o640)
        #expect(after[.modificationDate] as? Date == before[.modificationDate] as? Date)
    }
}
