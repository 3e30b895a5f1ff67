import Foundation
import GRDB

extension Schema {
    /// Version 5: time is stored one way. Until v4 tasks, signing keys and operators held REAL seconds, tokens,
    /// revocations and proofs INTEGER seconds, and the audit log INTEGER milliseconds; from v5 every instant is
    /// INTEGER milliseconds since 1970 and the one duration (a task's heartbeat interval) INTEGER milliseconds.
    ///
    /// Values are converted by ``StoredTime`` itself (as an SQL function), so a migrated value is the one the
    /// stores would have written. Audit entries are untouched: their hash covers `at_ms`, already milliseconds.
    /// Tables whose declared type changes are rebuilt, which needs foreign keys off (the migrator's default,
    /// deferred checks), since `tasks` refers to itself.
    static func version5(_ db: Database) throws {
        let convert = DatabaseFunction("writ_stored_milliseconds", argumentCount: 1, pure: true) { values in
            Double.fromDatabaseValue(values[0]).map { StoredTime.milliseconds(seconds: $0) }
        }
        db.add(function: convert)
        defer { db.remove(function: convert) }
        try rebuild(db, table: "tasks", as: tasksVersion5, converting: tasksTimes, keepingRowIDs: false)
        try rebuild(db, table: "signing_keys", as: signingKeysVersion5, converting: signingKeysTimes)
        try rebuild(db, table: "operators", as: operatorsVersion5, converting: operatorsTimes)
        // Declared INTEGER already: only the values change (NULL stays NULL).
        let seconds = [
            "tokens": ["issued_at", "expires_at"],
            "revocations": ["before", "revoked_at", "retain_until"],
            "dpop_proofs": ["expires_at"],
        ]
        for (table, columns) in seconds.sorted(by: { $0.key < $1.key }) {
            let assignments = columns.map { "\($0) = writ_stored_milliseconds(\($0))" }.joined(separator: ", ")
            try db.execute(sql: "UPDATE \(table) SET \(assignments)")
        }
    }

    /// Replaces `table` by a table made by `definition` (which names it `<table>_v5`): every column copied,
    /// the `times` converted to milliseconds, rowids kept unless the table has none (they break ties in listings),
    /// indexes recreated.
    private static func rebuild(
        _ db: Database,
        table: String,
        as definition: String,
        converting times: Set<String>,
        keepingRowIDs: Bool = true
    ) throws {
        let indexes = try String.fetchAll(
            db,
            sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            arguments: [table]
        )
        let kept = (keepingRowIDs ? ["rowid"] : []) + (try db.columns(in: table).map(\.name))
        let values = kept.map { times.contains($0) ? "writ_stored_milliseconds(\($0))" : $0 }
        try db.execute(sql: definition)
        try db.execute(
            sql: "INSERT INTO \(table)_v5 (\(kept.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) "
                + "FROM \(table)"
        )
        try db.execute(sql: "DROP TABLE \(table)")
        try db.execute(sql: "ALTER TABLE \(table)_v5 RENAME TO \(table)")
        for index in indexes { try db.execute(sql: index) }
    }

    private static let tasksTimes: Set = [
        "created_at", "deadline", "heartbeat_interval", "last_heartbeat", "closed_at",
    ]
    private static let tasksVersion5 = """
        CREATE TABLE tasks_v5 (
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
            created_at INTEGER NOT NULL,
            deadline INTEGER NOT NULL,
            heartbeat_interval INTEGER,
            last_heartbeat INTEGER,
            closed_at INTEGER
        ) WITHOUT ROWID
        """

    private static let signingKeysTimes: Set = ["created_at", "activates_at", "retires_at", "retired_at"]
    private static let signingKeysVersion5 = """
        CREATE TABLE signing_keys_v5 (
            kid TEXT PRIMARY KEY NOT NULL,
            algorithm TEXT NOT NULL,
            file TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            activates_at INTEGER,
            retires_at INTEGER,
            retired_at INTEGER
        )
        """

    private static let operatorsTimes: Set = ["created_at", "revoked_at"]
    private static let operatorsVersion5 = """
        CREATE TABLE operators_v5 (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        )
        """
}
