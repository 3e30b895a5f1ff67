import Foundation
import Testing
import WritBroker
import WritTestSupport

/// A store implementation that ``StoreConformanceTests`` holds to the store protocols' documented contracts.
/// A new implementation (another database) is added to ``implementations`` and nowhere else: the suite does
/// not change.
struct StoreImplementation: Sendable, CustomTestStringConvertible {
    /// Every implementation the suite runs against.
    static let implementations: [StoreImplementation] = [.sqlite, .postgres]

    /// The name the test report shows.
    let name: String
    /// Opens fresh, empty stores.
    let open: @Sendable () async throws -> OpenedStores

    var testDescription: String { name }

    /// The SQLite stores, on a database file in a temporary directory removed afterwards.
    static let sqlite = StoreImplementation(
        name: "SQLite",
        open: {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "writ-conformance-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stores = try BrokerStores.sqlite(path: directory.appendingPathComponent("writ.sqlite").path)
            return OpenedStores(stores: stores) { try? FileManager.default.removeItem(at: directory) }
        }
    )

    /// The PostgreSQL stores, each run on a new database of the tests' own server, dropped afterwards.
    static let postgres = StoreImplementation(
        name: "PostgreSQL",
        open: {
            let server = try TestPostgreSQL.server.get()
            let name = try server.createDatabase()
            let location = try PostgresLocation(url: server.url(database: name) + "&pool=4")
            let database = try await PostgresDatabase(location)
            return OpenedStores(stores: .postgres(database)) {
                database.close()
                try? server.dropDatabase(name)
            }
        }
    )

    /// Runs `body` on fresh stores and disposes of them afterwards, whether `body` throws or not.
    func withStores<Result: Sendable>(_ body: (BrokerStores) async throws -> Result) async throws -> Result {
        let opened = try await open()
        do {
            let result = try await body(opened.stores)
            await opened.discard()
            return result
        } catch {
            await opened.discard()
            throw error
        }
    }

}

/// Fresh stores and how to dispose of them (a database file to remove, a schema to drop).
struct OpenedStores: Sendable {
    /// The stores under test.
    let stores: BrokerStores
    /// Removes what opening made.
    let discard: @Sendable () async -> Void
}

/// The one PostgreSQL server of this test process, started when a test first needs it. It stops when the
/// process ends, however it ends (see `PostgreSQLServer`).
enum TestPostgreSQL {
    static let server = Result { try PostgreSQLServer() }
}
