import Foundation
import Testing
import WritTestSupport

@testable import WritBroker

/// The PostgreSQL server the store tests start for themselves.
@Suite("The tests' PostgreSQL server")
struct PostgreSQLServerTests {
    @Test("it starts on a free loopback port, answers queries, and stopped leaves neither process nor directory")
    func startsAnswersAndStops() async throws {
        let server = try PostgreSQLServer()
        let name = try server.createDatabase()
        #expect(try server.sql("SELECT 40 + 2", database: name).trimmingCharacters(in: .whitespacesAndNewlines) == "42")
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.directory.path))
        #expect(throws: PostgreSQLServerError.self) { try server.sql("SELECT 1") }
    }

    @Test("the broker's PostgreSQL store connects, migrates once, and a second opening finds the schema current")
    func migratesOnce() async throws {
        let server = try TestPostgreSQL.server.get()
        let name = try server.createDatabase()
        defer { try? server.dropDatabase(name) }
        let location = try PostgresLocation(url: server.url(database: name))
        let first = try await PostgresDatabase(location)
        first.close()
        let second = try await PostgresDatabase(location)
        second.close()
        let versions = try server.sql("SELECT COUNT(*) FROM writ_schema", database: name)
        #expect(versions.trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresSchema.migrations.count))
    }
}
