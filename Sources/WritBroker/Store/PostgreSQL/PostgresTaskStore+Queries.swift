import Foundation
import PostgresNIO
import WritToken

extension PostgresTaskStore {
    func list(matching filter: TaskFilter, now: Date) async throws -> [TaskSummary] {
        try await database.read { session in
            var bindings = PostgresBindings()
            var conditions: [String] = []
            func bind(_ value: String) -> String {
                bindings.append(value)
                return "$\(bindings.count)"
            }
            bindings.append(StoredTime.milliseconds(now.wholeSeconds))
            if let workload = filter.workload { conditions.append("t.workload = \(bind(workload.description))") }
            if let user = filter.user { conditions.append("t.user_subject = \(bind(user))") }
            if let state = filter.state { conditions.append("t.state = \(bind(state.rawValue))") }
            if let audience = filter.audience {
                conditions.append(
                    """
                    EXISTS (SELECT 1 FROM jsonb_array_elements(t.grant_json::jsonb -> 'authorization_details') AS d,
                        jsonb_array_elements_text(CASE WHEN jsonb_typeof(d -> 'locations') = 'array'
                            THEN d -> 'locations' ELSE '[]'::jsonb END) AS l
                        WHERE l = \(bind(audience)))
                    """
                )
            }
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            // One more than asked, so the caller learns whether more match.
            bindings.append(Int64(max(1, min(filter.limit, 1000)) + 1))
            let sql = """
                SELECT t.*, (SELECT COUNT(*) FROM tokens WHERE task_id = t.id) AS token_count,
                    (SELECT COUNT(*) FROM tokens AS k WHERE k.task_id = t.id AND t.state = 'open'
                        AND k.expires_at > $1 AND NOT \(PostgresTokenRows.revokedCondition)) AS live_count
                FROM tasks AS t \(clause)
                ORDER BY t.created_at DESC, t.id LIMIT $\(bindings.count)
                """
            return try await session.rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
                TaskSummary(
                    task: try PostgresTaskRows.task(row),
                    tokens: try row.int("token_count"),
                    liveTokens: try row.int("live_count")
                )
            }
        }
    }

    func fetchTree(id: String) async throws -> TaskTree? {
        try await database.read { session -> TaskTree? in
            guard let root = try await PostgresTaskRows.fetch(session, id: id) else { return nil }
            var tasks = [root]
            var index = 0
            while index < tasks.count {
                let children = try await session.rows(
                    "SELECT * FROM tasks WHERE parent_id = \(tasks[index].id) ORDER BY created_at, id"
                ).map(PostgresTaskRows.task)
                tasks.insert(contentsOf: children, at: index + 1)
                index += 1
            }
            var tokens: [TaskTree.TokenState] = []
            for task in tasks {
                for token in try await PostgresTokenRows.list(session, taskID: task.id) {
                    let covered = try await PostgresTokenRows.isRevoked(session, id: token.id)
                    tokens.append(TaskTree.TokenState(token: token, revoked: task.state != .open || covered))
                }
            }
            return TaskTree(tasks: tasks, tokens: tokens)
        }
    }

    func listWorkloads(now: Date) async throws -> [WorkloadActivity] {
        try await database.read { session in
            try await session.rows(
                """
                SELECT t.workload, COUNT(*) AS tasks, COUNT(*) FILTER (WHERE t.state = 'open') AS open_tasks,
                    MAX(t.created_at) AS last_task,
                    (SELECT COUNT(*) FROM tokens AS k JOIN tasks AS o ON o.id = k.task_id
                        WHERE o.workload = t.workload AND o.state = 'open'
                        AND k.expires_at > \(StoredTime.milliseconds(now.wholeSeconds))
                        AND NOT \(unescaped: PostgresTokenRows.revokedCondition)) AS live_tokens
                FROM tasks AS t GROUP BY t.workload ORDER BY last_task DESC LIMIT 1000
                """
            ).map { row in
                WorkloadActivity(
                    workload: try row.string("workload"),
                    openTasks: try row.int("open_tasks"),
                    tasks: try row.int("tasks"),
                    liveTokens: try row.int("live_tokens"),
                    lastTask: try row.optionalDate("last_task")
                )
            }
        }
    }
}
