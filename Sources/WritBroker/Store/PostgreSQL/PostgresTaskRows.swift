import Foundation
import PostgresNIO
import WritPolicy
import WritToken

/// The tasks table on PostgreSQL: the statements the stores share.
enum PostgresTaskRows {
    static func insert(_ session: PostgresSession, _ task: BrokerTask) async throws {
        let actors = JSONWriter.string(.array(task.actors.map { .string($0.description) }))
        let claims = task.user.map { JSONWriter.string(.object($0.claims)) }
        try await session.execute(
            """
            INSERT INTO tasks (id, parent_id, root_id, depth, workload, actors, created_by, attestation,
                user_subject, user_claims, type, purpose, grant_json, state, reason, created_at, deadline,
                heartbeat_interval, last_heartbeat, closed_at, implicit)
            VALUES (\(task.id), \(task.parentID), \(task.rootID), \(Int64(task.depth)), \(task.workload.description),
                \(actors), \(task.createdBy.description), \(task.attestation.rawValue), \(task.user?.subject),
                \(claims), \(task.type), \(task.purpose), \(JSONWriter.string(task.grant.json)),
                \(task.state.rawValue), \(task.reason), \(StoredTime.milliseconds(task.createdAt)),
                \(StoredTime.milliseconds(task.deadline)),
                \(task.heartbeatInterval.map { StoredTime.milliseconds(duration: $0) }),
                \(task.lastHeartbeat.map(StoredTime.milliseconds)), \(task.closedAt.map(StoredTime.milliseconds)),
                \(task.implicit))
            """
        )
    }

    static func fetch(_ session: PostgresSession, id: String) async throws -> BrokerTask? {
        try await session.row("SELECT * FROM tasks WHERE id = \(id)").map(task)
    }

    static func state(_ session: PostgresSession, id: String) async throws -> TaskState? {
        try await session.strings("SELECT state FROM tasks WHERE id = \(id)").first.flatMap(TaskState.init)
    }

    static func countOpen(_ session: PostgresSession, createdBy workload: SPIFFEID) async throws -> Int {
        Int(
            try await session.integer(
                "SELECT COUNT(*) FROM tasks WHERE created_by = \(workload.description) AND state = 'open'"
            ) ?? 0
        )
    }

    static func openSubtree(_ session: PostgresSession, root id: String) async throws -> [String] {
        try await session.strings(
            """
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM tasks WHERE id = \(id)
                UNION ALL
                SELECT tasks.id FROM tasks JOIN subtree ON tasks.parent_id = subtree.id WHERE tasks.state = 'open'
            )
            SELECT id FROM subtree
            """
        )
    }

    static func listDue(_ session: PostgresSession, now: Date, limit: Int) async throws -> [String] {
        let milliseconds = StoredTime.milliseconds(now)
        return try await session.strings(
            """
            SELECT id FROM tasks WHERE state = 'open' AND (deadline <= \(milliseconds)
                OR (heartbeat_interval IS NOT NULL
                    AND last_heartbeat + heartbeat_interval * \(BrokerTask.heartbeatGrace) < \(milliseconds)))
            LIMIT \(Int64(limit))
            """
        )
    }

    static func listOpen(
        _ session: PostgresSession,
        workload: SPIFFEID? = nil,
        user: String? = nil
    ) async throws
        -> [String]
    {
        if let workload {
            return try await session.strings(
                "SELECT id FROM tasks WHERE workload = \(workload.description) AND state = 'open'"
            )
        }
        if let user {
            return try await session.strings("SELECT id FROM tasks WHERE user_subject = \(user) AND state = 'open'")
        }
        return []
    }

    static func close(
        _ session: PostgresSession,
        ids: [String],
        state: TaskState,
        reason: String,
        at date: Date
    ) async throws -> [String] {
        var closed: [String] = []
        for id in ids {
            let changed = try await session.execute(
                """
                UPDATE tasks SET state = \(state.rawValue), reason = \(reason),
                    closed_at = \(StoredTime.milliseconds(date)) WHERE id = \(id) AND state = 'open' RETURNING 1
                """
            )
            if changed == 1 { closed.append(id) }
        }
        try await PostgresStatusRows.markRevoked(session, taskIDs: closed)
        return closed
    }

    static func updateHeartbeat(_ session: PostgresSession, id: String, at date: Date) async throws -> Bool {
        try await session.execute(
            """
            UPDATE tasks SET last_heartbeat = \(StoredTime.milliseconds(date)) WHERE id = \(id) AND state = 'open'
            RETURNING 1
            """
        ) == 1
    }

    static func prune(_ session: PostgresSession, closedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await session.execute(
            """
            DELETE FROM tasks WHERE id IN (
                SELECT id FROM tasks AS t WHERE t.state <> 'open' AND t.closed_at < \(StoredTime.milliseconds(cutoff))
                AND NOT EXISTS (SELECT 1 FROM tasks AS c WHERE c.parent_id = t.id)
                LIMIT \(Int64(limit)))
            RETURNING 1
            """
        )
    }

    static func task(_ row: PostgresRandomAccessRow) throws -> BrokerTask {
        let actors = try StrictJSON().parse(try row.string("actors")).arrayValue?.compactMap(\.stringValue) ?? []
        let userClaims = try row.optionalString("user_claims").map { try StrictJSON().parse($0).objectValue ?? [:] }
        guard let state = TaskState(rawValue: try row.string("state")),
            let attestation = Attestation(rawValue: try row.string("attestation"))
        else { throw PostgresStoreError(code: nil, description: "a stored task is malformed") }
        return BrokerTask(
            id: try row.string("id"),
            parentID: try row.optionalString("parent_id"),
            rootID: try row.string("root_id"),
            depth: try row.int("depth"),
            workload: try SPIFFEID(try row.string("workload")),
            actors: try actors.map { try SPIFFEID($0) },
            createdBy: try SPIFFEID(try row.string("created_by")),
            attestation: attestation,
            user: userClaims.map { UserClaims(claims: $0) },
            type: try row.string("type"),
            purpose: try row.optionalString("purpose"),
            grant: try Grant(json: try StrictJSON().parse(try row.string("grant_json"))),
            state: state,
            reason: try row.optionalString("reason"),
            createdAt: try row.date("created_at"),
            deadline: try row.date("deadline"),
            heartbeatInterval: try row.optionalInt64("heartbeat_interval").map(StoredTime.duration),
            lastHeartbeat: try row.optionalDate("last_heartbeat"),
            closedAt: try row.optionalDate("closed_at"),
            implicit: try row.bool("implicit")
        )
    }
}
