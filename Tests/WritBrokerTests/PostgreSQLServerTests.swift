import Foundation
import Testing
import WritTestSupport

@testable import WritBroker

/// The PostgreSQL server the store tests start for themselves.
@Suite("The tests' PostgreSQL server")
struct PostgreSQLServerTests {
    @Test("it starts on a free loopback port, answers queries, and stopped leaves neither process nor directory")
    func startsAnswersAndStops() async throws {
        let server = try await PostgreSQLServer.start()
        let name = try await server.createDatabase()
        #expect(
            try await server.sql("SELECT 40 + 2", database: name).trimmingCharacters(in: .whitespacesAndNewlines)
                == "42"
        )
        await server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.directory.path))
        await #expect(throws: PostgreSQLServerError.self) { try await server.sql("SELECT 1") }
    }

    @Test("the broker's PostgreSQL store connects, migrates once, and a second opening finds the schema current")
    func migratesOnce() async throws {
        try await TestPostgreSQL.withDatabase(migrated: false) { server, name in
            try await TestPostgreSQL.open(name).close()
            try await TestPostgreSQL.open(name).close()
            let versions = try await server.sql("SELECT COUNT(*) FROM writ_schema", database: name)
            #expect(
                versions.trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresSchema.migrations.count)
            )
        }
    }
}
