import Foundation
import PostgresNIO

/// The PostgreSQL schema, as append-only migrations: a released migration never changes; a change to the
/// schema is a new one at the end. Times are INTEGER milliseconds since 1970, as on SQLite.
enum PostgresSchema {
    /// The migrations in order; the index plus one is the version a database records.
    static let migrations: [[String]] = [version1, version2, version3, version4, version5]

    /// Applies the migrations a database has not had, in one transaction under the migration lock, so brokers
    /// starting together migrate once. A database newer than this writ is refused.
    static func migrate(_ database: PostgresDatabase) async throws {
        _ = try await database.transaction(begin: "BEGIN", lock: PostgresDatabase.migrationLock) { session in
            try await session.run(
                "CREATE TABLE IF NOT EXISTS writ_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
            )
            let current =
                try await session.row("SELECT COALESCE(MAX(version), 0) AS v FROM writ_schema")?["v"]
                .decode(Int32.self) ?? 0
            guard Int(current) <= migrations.count else {
                throw PostgresStoreError(
                    code: nil,
                    description: "the database's schema (version \(current)) is newer than this writ knows "
                        + "(\(migrations.count)); run the writ that migrated it"
                )
            }
            for (index, statements) in migrations.enumerated() where index >= Int(current) {
                for statement in statements { try await session.run(statement) }
                let version = Int32(index + 1)
                let now = StoredTime.milliseconds(Date())
                try await session.execute("INSERT INTO writ_schema (version, applied_at) VALUES (\(version), \(now))")
            }
            return true
        }
    }

    /// Refuses a database that is not at this writ's schema, without changing it.
    static func check(_ database: PostgresDatabase) async throws {
        let version = try await database.read { session in
            let exists = try await session.integer("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'writ_schema'")
            guard exists == 1 else { return Int32(0) }
            return try await session.row("SELECT COALESCE(MAX(version), 0) AS v FROM writ_schema")?["v"]
                .decode(Int32.self) ?? 0
        }
        guard Int(version) == migrations.count else {
            throw PostgresStoreError(
                code: nil,
                description:
                    "the database's schema is at version \(version), this writ's at \(migrations.count); start "
                    + "`writ serve` of this version on it once (it migrates the schema), then run this again"
            )
        }
    }

    /// Implicit tasks: made by the token endpoint for one token.
    static let version2 = ["ALTER TABLE tasks ADD COLUMN implicit BOOLEAN NOT NULL DEFAULT false"]

    /// Cluster membership: the brokers alive now, among whom the rate limits are shared.
    static let version3 = ["CREATE TABLE writ_brokers (id TEXT PRIMARY KEY, seen_at BIGINT NOT NULL)"]

    /// Monitoring alerts (what a detection rule saw and what the broker did) and usage baselines.
    static let version5 = [
        """
        CREATE TABLE monitoring_alerts (
            id BIGSERIAL PRIMARY KEY,
            at BIGINT NOT NULL,
            rule TEXT NOT NULL,
            response TEXT NOT NULL,
            workload TEXT NOT NULL,
            task TEXT,
            task_type TEXT,
            window_seconds INTEGER NOT NULL,
            observed BIGINT NOT NULL,
            threshold INTEGER NOT NULL,
            codes TEXT NOT NULL,
            kind TEXT NOT NULL,
            baseline TEXT,
            revocation BIGINT
        )
        """,
        "CREATE INDEX monitoring_alerts_by_workload ON monitoring_alerts(workload, id)",
        "CREATE INDEX monitoring_alerts_by_time ON monitoring_alerts(at)",
        """
        CREATE TABLE usage_baselines (
            workload TEXT NOT NULL,
            task_type TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (workload, task_type)
        )
        """,
    ]

    /// Token Status Lists: each token's list and index, its status (1 once anything revokes it, set in the
    /// revoking commit), and the lists with the next index each hands out. Shared Signals streams.
    static let version4 = [
        "ALTER TABLE tokens ADD COLUMN status_list TEXT",
        "ALTER TABLE tokens ADD COLUMN status_index INTEGER",
        "ALTER TABLE tokens ADD COLUMN status SMALLINT NOT NULL DEFAULT 0",
        "CREATE INDEX tokens_revoked_by_list ON tokens(status_list, status_index) WHERE status = 1",
        """
        CREATE TABLE status_lists (
            id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            size INTEGER NOT NULL,
            next_index INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (key_id, epoch)
        )
        """,
        """
        CREATE TABLE ssf_streams (
            id TEXT PRIMARY KEY,
            receiver TEXT NOT NULL,
            description TEXT,
            events_requested TEXT NOT NULL,
            delivery TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            push_authorization TEXT,
            status TEXT NOT NULL,
            status_reason TEXT,
            feed_cursor BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX ssf_streams_by_receiver ON ssf_streams(receiver, created_at)",
    ]

    static let version1 = [
        """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
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
            created_at BIGINT NOT NULL,
            deadline BIGINT NOT NULL,
            heartbeat_interval BIGINT,
            last_heartbeat BIGINT,
            closed_at BIGINT
        )
        """,
        "CREATE INDEX tasks_by_parent ON tasks(parent_id) WHERE parent_id IS NOT NULL",
        "CREATE INDEX tasks_open_by_deadline ON tasks(deadline) WHERE state = 'open'",
        "CREATE INDEX tasks_open_by_workload ON tasks(workload) WHERE state = 'open'",
        "CREATE INDEX tasks_open_by_user ON tasks(user_subject) WHERE state = 'open'",
        "CREATE INDEX tasks_open_by_creator ON tasks(created_by) WHERE state = 'open'",
        "CREATE INDEX tasks_closed ON tasks(closed_at) WHERE state <> 'open'",
        "CREATE INDEX tasks_by_created ON tasks(created_at)",
        """
        CREATE TABLE tokens (
            jti TEXT PRIMARY KEY,
            task_id TEXT NOT NULL,
            workload TEXT NOT NULL,
            subject TEXT NOT NULL,
            audience TEXT NOT NULL,
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            binding TEXT NOT NULL
        )
        """,
        "CREATE INDEX tokens_by_task ON tokens(task_id, expires_at)",
        "CREATE INDEX tokens_by_expiry ON tokens(expires_at)",
        // The last number given per numbered log: numbers are never reused, even after pruning.
        "CREATE TABLE writ_sequences (name TEXT PRIMARY KEY, last BIGINT NOT NULL)",
        "INSERT INTO writ_sequences (name, last) VALUES ('revocations', 0), ('audit', 0)",
        """
        CREATE TABLE revocations (
            seq BIGINT PRIMARY KEY,
            kind TEXT NOT NULL,
            subject TEXT,
            before BIGINT,
            workload TEXT,
            revoked_at BIGINT NOT NULL,
            retain_until BIGINT NOT NULL,
            actor TEXT NOT NULL
        )
        """,
        "CREATE INDEX revocations_by_retention ON revocations(retain_until)",
        "CREATE INDEX revocations_by_subject ON revocations(kind, subject)",
        """
        CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at_ms BIGINT NOT NULL,
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
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            position BIGSERIAL,
            algorithm TEXT NOT NULL,
            file TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            activates_at BIGINT,
            retires_at BIGINT,
            retired_at BIGINT
        )
        """,
        """
        CREATE TABLE operators (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        """
        CREATE TABLE dpop_proofs (
            expires_at BIGINT NOT NULL,
            proof TEXT NOT NULL,
            PRIMARY KEY (expires_at, proof)
        )
        """,
    ]
}
