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

    /// The PostgreSQL stores, each run on a new database of the tests' server, dropped afterwards. A few at a
    /// time: each holds a pool of connections, and many at once on two cores only make all of them slow.
    static let postgres = StoreImplementation(
        name: "PostgreSQL",
        open: {
            await TestPostgreSQL.stores.enter()
            do {
                let server = try await PostgreSQLServer.shared()
                let name = try await server.createDatabase(template: try await TestPostgreSQL.schemaTemplate())
                let database = try await TestPostgreSQL.open(name, pool: 4)
                return OpenedStores(stores: .postgres(database)) {
                    database.close()
                    try? await server.dropDatabase(name)
                    await TestPostgreSQL.stores.leave()
                }
            } catch {
                await TestPostgreSQL.stores.leave()
                throw error
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

/// The broker's databases on the tests' shared PostgreSQL server.
enum TestPostgreSQL {
    /// How many conformance tests hold PostgreSQL stores at once.
    static let stores = Gate(limit: 4)

    /// Opens the broker's store on `database`, with time to spare for a machine busy with the other tests.
    static func open(_ database: String, pool: Int? = nil) async throws -> PostgresDatabase {
        let server = try await PostgreSQLServer.shared()
        let url = server.url(database: database) + (pool.map { "&pool=\($0)" } ?? "")
        return try await PostgresDatabase(try PostgresLocation(url: url), timeout: .seconds(120))
    }

    /// A database with the broker's current schema, which new databases copy instead of each migrating.
    static func schemaTemplate() async throws -> String { try await SchemaTemplate.instance.name() }

    /// Runs `body` on a new database of the shared server, with the broker's schema unless `migrated` is false,
    /// and drops it afterwards.
    static func withDatabase<Result: Sendable>(
        migrated: Bool = true,
        _ body: (PostgreSQLServer, String) async throws -> Result
    ) async throws -> Result {
        let server = try await PostgreSQLServer.shared()
        let template = migrated ? try await schemaTemplate() : nil
        return try await server.withDatabase(template: template) { try await body(server, $0) }
    }
}

/// The migrated template, made once per test process.
private actor SchemaTemplate {
    static let instance = SchemaTemplate()
    private var made: Task<String, any Error>?

    func name() async throws -> String {
        if let made { return try await made.value }
        let making = Task {
            let server = try await PostgreSQLServer.shared()
            let name = try await server.createDatabase("writ_schema_template")
            let database = try await TestPostgreSQL.open(name)
            database.close()
            // Copying needs a database nobody is connected to.
            try await server.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'; "
                    + "ALTER DATABASE \(name) WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
            )
            return name
        }
        made = making
        return try await making.value
    }
}

/// At most `limit` holders at a time; the others wait their turn in order.
actor Gate {
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func enter() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
