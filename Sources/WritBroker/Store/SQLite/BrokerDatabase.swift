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
        return migrator
    }
}

/// The statements of each schema version.
enum Schema {
    /// Token Status Lists: each token's list and index, its status (1 once anything revokes it, set in the
    /// revoking commit), and the lists with the next index each hands out. Shared Signals streams.
    static let version7 = [
        "ALTER TABLE tokens ADD COLUMN status_list TEXT",
        "ALTER TABLE tokens ADD COLUMN status_index INTEGER",
        "ALTER TABLE tokens ADD COLUMN status INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX tokens_revoked_by_list ON tokens(status_list, status_index) WHERE status = 1",
        """
        CREATE TABLE status_lists (
            id TEXT PRIMARY KEY NOT NULL,
            key_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            size INTEGER NOT NULL,
            next_index INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (key_id, epoch)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE ssf_streams (
            id TEXT PRIMARY KEY NOT NULL,
            receiver TEXT NOT NULL,
            description TEXT,
            events_requested TEXT NOT NULL,
            delivery TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            push_authorization TEXT,
            status TEXT NOT NULL,
            status_reason TEXT,
            feed_cursor INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX ssf_streams_by_receiver ON ssf_streams(receiver, created_at)",
    ]

    /// Implicit tasks: made by the token endpoint for one token.
    static let version6 = ["ALTER TABLE tasks ADD COLUMN implicit INTEGER NOT NULL DEFAULT 0"]

    /// DPoP proofs accepted at the token endpoint, so single use survives a restart.
    static let version4 = [
        """
        CREATE TABLE dpop_proofs (
            expires_at INTEGER NOT NULL,
            proof TEXT NOT NULL,
            PRIMARY KEY (expires_at, proof)
        ) WITHOUT ROWID
        """
    ]

    /// Key rotation (a key is published before it signs and retired once its last token has expired), and
    /// operators listing tasks newest first.
    static let version3 = [
        "ALTER TABLE signing_keys ADD COLUMN activates_at REAL",
        "ALTER TABLE signing_keys ADD COLUMN retires_at REAL",
        "CREATE INDEX tasks_by_created ON tasks(created_at)",
    ]

    /// Open-task quotas count by creator.
    static let version2 = [
        "CREATE INDEX tasks_open_by_creator ON tasks(created_by) WHERE state = 'open'"
    ]

    static let version1 = [
        """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY NOT NULL,
            parent_id TEXT REFERENCES tasks(id),
            root_id TEXT NOT NULL,
            depth INTEGER NOT NULL,
            workload TEXT NOT NULL,
            actors TEXT NOT NULL,
            created_by TEXT NOT NULL,
            attestation TEXT NOT NULL,
            user_subject TEXT,
            user_claims TEXT,
            type TEXT NOT NULL,
            purpose TEXT,
            grant_json TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            created_at REAL NOT NULL,
            deadline REAL NOT NULL,
            heartbeat_interval REAL,
            last_heartbeat REAL,
            closed_at REAL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX tasks_by_parent ON tasks(parent_id) WHERE parent_id IS NOT NULL",
        "CREATE INDEX tasks_open_by_deadline ON tasks(deadline) WHERE state = 'open'",
        "CREATE INDEX tasks_open_by_workload ON tasks(workload) WHERE state = 'open'",
        "CREATE INDEX tasks_open_by_user ON tasks(user_subject) WHERE state = 'open'",
        "CREATE INDEX tasks_closed ON tasks(closed_at) WHERE state <> 'open'",
        """
        CREATE TABLE tokens (
            jti TEXT PRIMARY KEY NOT NULL,
            task_id TEXT NOT NULL,
            workload TEXT NOT NULL,
            subject TEXT NOT NULL,
            audience TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            binding TEXT NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX tokens_by_task ON tokens(task_id, expires_at)",
        "CREATE INDEX tokens_by_expiry ON tokens(expires_at)",
        """
        CREATE TABLE revocations (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            subject TEXT,
            before INTEGER,
            workload TEXT,
            revoked_at INTEGER NOT NULL,
            retain_until INTEGER NOT NULL,
            actor TEXT NOT NULL
        )
        """,
        "CREATE INDEX revocations_by_retention ON revocations(retain_until)",
        "CREATE INDEX revocations_by_subject ON revocations(kind, subject)",
        """
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            event TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY NOT NULL,
            algorithm TEXT NOT NULL,
            file TEXT NOT NULL,
            created_at REAL NOT NULL,
            retired_at REAL
        )
        """,
        """
        CREATE TABLE operators (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at REAL NOT NULL,
            revoked_at REAL
        )
        """,
    ]
}
