import Foundation
import GRDB
import Synchronization

/// The broker's SQLite database: WAL, full sync, foreign keys, and the schema migrations. Only the SQLite
/// stores beside it see its connections.
///
/// Every write goes through a ``CommitQueue``, which groups concurrent writes into shared durable commits.
public struct BrokerDatabase: Sendable {
    /// The connection pool (one writer, several readers).
    let pool: DatabasePool
    /// The queue that groups writes into shared commits.
    let commits: CommitQueue<@Sendable (Database) throws -> Void>

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema. With
    /// `migrating: false` (the CLI on the broker's host, beside a broker that may hold the file) nothing is
    /// created or migrated: a database that is missing or behind this version's schema is refused.
    public init(path: String, migrating: Bool = true) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // FULL: a commit is on disk before it returns, so nothing is acknowledged before it is durable.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        if !migrating {
            guard FileManager.default.fileExists(atPath: path) else { throw SchemaMismatch(path: path, missing: true) }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        if migrating {
            try Self.migrator.migrate(pool)
        } else if try pool.read({ db in try !Self.migrator.hasCompletedMigrations(db) }) {
            throw SchemaMismatch(path: path, missing: false)
        }
        // The database holds operator hashes and the audit log: owner-only, like the keys beside it.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
        self.pool = pool
        self.commits = CommitQueue { batch in try await Self.commit(batch, in: pool) }
    }

    /// Runs a write in the next shared commit and returns once that commit is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = Mutex<T?>(nil)
        try await commits.perform { db in
            let value = try body(db)
            result.withLock { $0 = value }
        }
        guard let value = result.withLock({ $0 }) else { throw DatabaseError(message: "the write produced no result") }
        return value
    }

    /// Runs a batch of writes in one immediate transaction, each in its own savepoint, and commits once.
    private static func commit(
        _ batch: [@Sendable (Database) throws -> Void],
        in pool: DatabasePool
    ) async throws
        -> [(any Error)?]
    {
        try await pool.writeWithoutTransaction { db in
            var failures = [(any Error)?](repeating: nil, count: batch.count)
            // Prepared once per connection: a batch runs three statements per write around its work.
            let savepoint = try db.cachedStatement(sql: "SAVEPOINT write")
            let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT write")
            let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT write")
            try db.inTransaction(.immediate) {
                for (index, work) in batch.enumerated() {
                    try savepoint.execute()
                    do {
                        try work(db)
                        try release.execute()
                    } catch {
                        failures[index] = error
                        try rollback.execute()
                        try release.execute()
                    }
                }
                return .commit
            }
            return failures
        }
    }

    /// Runs a read on a snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    /// A database the CLI will not touch: missing, or not yet migrated to this version's schema.
    public struct SchemaMismatch: Error, Sendable, CustomStringConvertible {
        /// The file.
        public let path: String
        /// Whether there is no database at all.
        public let missing: Bool
        /// Whether a running broker holds the database (its state directory's lock).
        public var heldByRunningBroker = false

        init(path: String, missing: Bool) {
            self.path = path
            self.missing = missing
        }

        public var description: String {
            if missing { return "no broker database at \(path); pass --state with the broker's state directory" }
            if heldByRunningBroker {
                return "the database at \(path) is older than this writ and a running broker (an older version) "
                    + "holds it; the CLI never migrates a database a broker holds: stop that broker, start `writ "
                    + "serve` of this version (it migrates the schema), then run this again"
            }
            return "the database at \(path) is older than this writ; start `writ serve` of this version on it once "
                + "(it migrates the schema), then run this again"
        }
    }

    /// SQLite's own consistency check; `["ok"]` when the file is sound.
    public func integrityCheck() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// The schema, as migrations that never change once shipped: a new need is a new migration.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            for statement in Schema.version1 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v2") { db in
            for statement in Schema.version2 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v3") { db in
            for statement in Schema.version3 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v4") { db in
            for statement in Schema.version4 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5") { db in try Schema.version5(db) }
        migrator.registerMigration("v6") { db in
            for statement in Schema.version6 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v7") { db in
            for statement in Schema.version7 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v8") { db in
            for statement in Schema.version8 { try db.execute(sql: statement) }
        }
        return migrator
    }
}
