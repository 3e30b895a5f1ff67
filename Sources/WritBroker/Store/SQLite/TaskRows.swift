import Foundation
import GRDB
import WritPolicy
import WritToken

/// Tasks in the database.
enum TaskRows {
    /// Inserts a new task.
    static func insert(_ db: Database, _ task: BrokerTask) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO tasks (id, parent_id, root_id, depth, workload, actors, created_by, attestation,
                    user_subject, user_claims, type, purpose, grant_json, state, reason, created_at, deadline,
                    heartbeat_interval, last_heartbeat, closed_at, implicit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                task.id, task.parentID, task.rootID, task.depth, task.workload.description,
                JSONWriter.string(.array(task.actors.map { .string($0.description) })), task.createdBy.description,
                task.attestation.rawValue, task.user?.subject, task.user.map { JSONWriter.string(.object($0.claims)) },
                task.type, task.purpose, JSONWriter.string(task.grant.json), task.state.rawValue, task.reason,
                StoredTime.milliseconds(task.createdAt), StoredTime.milliseconds(task.deadline),
                task.heartbeatInterval.map { StoredTime.milliseconds(duration: $0) },
                task.lastHeartbeat.map(StoredTime.milliseconds), task.closedAt.map(StoredTime.milliseconds),
                task.implicit,
            ]
        )
    }

    /// The task with this id, or nil.
    static func fetch(_ db: Database, id: String) throws -> BrokerTask? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM tasks WHERE id = ?"), arguments: [id]).map(task)
    }

    /// The state of a task, or nil when there is no such task.
    static func state(_ db: Database, id: String) throws -> TaskState? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM tasks WHERE id = ?"), arguments: [id]).flatMap(
            TaskState.init
        )
    }

    /// How many open tasks a workload has created (for itself or delegated).
    static func countOpen(_ db: Database, createdBy workload: SPIFFEID) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*) FROM tasks WHERE created_by = ? AND state = 'open'"),
            arguments: [workload.description]
        ) ?? 0
    }

    /// The ids of a task and every open descendant, the task first.
    static func openSubtree(_ db: Database, root id: String) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    WITH RECURSIVE subtree(id) AS (
                        SELECT id FROM tasks WHERE id = ?
                        UNION ALL
                        SELECT tasks.id FROM tasks JOIN subtree ON tasks.parent_id = subtree.id
                        WHERE tasks.state = 'open'
                    )
                    SELECT id FROM subtree
                    """
            ),
            arguments: [id]
        )
    }

    /// Open tasks that are due to expire at `now`: deadline passed or heartbeats missed.
    static func listDue(_ db: Database, now: Date, limit: Int) throws -> [String] {
        let milliseconds = StoredTime.milliseconds(now)
        return try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id FROM tasks WHERE state = 'open' AND (deadline <= ?
                        OR (heartbeat_interval IS NOT NULL AND last_heartbeat + heartbeat_interval * ? < ?))
                    LIMIT ?
                    """
            ),
            arguments: [milliseconds, BrokerTask.heartbeatGrace, milliseconds, limit]
        )
    }

    /// Open tasks of a workload, or of a user.
    static func listOpen(_ db: Database, workload: SPIFFEID? = nil, user: String? = nil) throws -> [String] {
        if let workload {
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM tasks WHERE workload = ? AND state = 'open'"),
                arguments: [workload.description]
            )
        }
        if let user {
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM tasks WHERE user_subject = ? AND state = 'open'"),
                arguments: [user]
            )
        }
        return []
    }

    /// Closes open tasks; tasks already closed are left as they are. Returns the ids actually closed.
    static func close(
        _ db: Database,
        ids: [String],
        state: TaskState,
        reason: String,
        at date: Date
    ) throws -> [String] {
        var closed: [String] = []
        for id in ids {
            try db.cachedStatement(
                sql: "UPDATE tasks SET state = ?, reason = ?, closed_at = ? WHERE id = ? AND state = 'open'"
            ).execute(
                arguments: [state.rawValue, reason, StoredTime.milliseconds(date), id]
            )
            if db.changesCount == 1 { closed.append(id) }
        }
        try StatusRows.markRevoked(db, taskIDs: closed)
        return closed
    }

    /// Records a heartbeat; false when the task is not open.
    static func updateHeartbeat(_ db: Database, id: String, at date: Date) throws -> Bool {
        try db.cachedStatement(sql: "UPDATE tasks SET last_heartbeat = ? WHERE id = ? AND state = 'open'").execute(
            arguments: [StoredTime.milliseconds(date), id]
        )
        return db.changesCount == 1
    }

    /// Deletes closed tasks closed before `cutoff` that have no sub-task left, at most `limit`.
    static func prune(_ db: Database, closedBefore cutoff: Date, limit: Int) throws -> Int {
        try db.cachedStatement(
            sql: """
                DELETE FROM tasks WHERE id IN (
                    SELECT id FROM tasks AS t WHERE t.state <> 'open' AND t.closed_at < ?
                    AND NOT EXISTS (SELECT 1 FROM tasks AS c WHERE c.parent_id = t.id)
                    LIMIT ?)
                """
        ).execute(
            arguments: [StoredTime.milliseconds(cutoff), limit]
        )
        return db.changesCount
    }

    static func task(_ row: Row) throws -> BrokerTask {
        func date(_ column: String) -> Date? { (row[column] as Int64?).map(StoredTime.date) }
        let actorsText: String = row["actors"]
        let actors = try StrictJSON().parse(actorsText).arrayValue?.compactMap(\.stringValue) ?? []
        let userClaims = try (row["user_claims"] as String?).map { try StrictJSON().parse($0).objectValue ?? [:] }
        let grantText: String = row["grant_json"]
        guard let state = TaskState(rawValue: row["state"]),
            let attestation = Attestation(rawValue: row["attestation"]),
            let createdAt = date("created_at"), let deadline = date("deadline")
        else { throw DatabaseError(message: "a stored task is malformed") }
        return BrokerTask(
            id: row["id"],
            parentID: row["parent_id"],
            rootID: row["root_id"],
            depth: row["depth"],
            workload: try SPIFFEID(row["workload"] as String),
            actors: try actors.map { try SPIFFEID($0) },
            createdBy: try SPIFFEID(row["created_by"] as String),
            attestation: attestation,
            user: userClaims.map { UserClaims(claims: $0) },
            type: row["type"],
            purpose: row["purpose"],
            grant: try Grant(json: try StrictJSON().parse(grantText)),
            state: state,
            reason: row["reason"],
            createdAt: createdAt,
            deadline: deadline,
            heartbeatInterval: (row["heartbeat_interval"] as Int64?).map(StoredTime.duration),
            lastHeartbeat: date("last_heartbeat"),
            closedAt: date("closed_at"),
            implicit: row["implicit"] ?? false
        )
    }
}
