/// The statements of each schema version.
enum Schema {
    /// Monitoring alerts (what a detection rule saw and what the broker did) and usage baselines.
    static let version8 = [
        """
        CREATE TABLE monitoring_alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            rule TEXT NOT NULL,
            response TEXT NOT NULL,
            workload TEXT NOT NULL,
            task TEXT,
            task_type TEXT,
            window_seconds INTEGER NOT NULL,
            observed INTEGER NOT NULL,
            threshold INTEGER NOT NULL,
            codes TEXT NOT NULL,
            kind TEXT NOT NULL,
            baseline TEXT,
            revocation INTEGER
        )
        """,
        "CREATE INDEX monitoring_alerts_by_workload ON monitoring_alerts(workload, id)",
        "CREATE INDEX monitoring_alerts_by_time ON monitoring_alerts(at)",
        """
        CREATE TABLE usage_baselines (
            workload TEXT NOT NULL,
            task_type TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (workload, task_type)
        )
        """,
    ]

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
