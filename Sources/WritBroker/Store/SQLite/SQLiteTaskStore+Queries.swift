import Foundation
import GRDB
import WritToken

extension SQLiteTaskStore {
    func list(matching filter: TaskFilter, now: Date) async throws -> [TaskSummary] {
        try await database.read { db in
            var conditions: [String] = []
            // In the order of the statement's placeholders: the live-token count's first.
            var arguments: [(any DatabaseValueConvertible)?] = [StoredTime.milliseconds(now.wholeSeconds)]
            if let workload = filter.workload {
                conditions.append("t.workload = ?")
                arguments.append(workload)
            }
            if let user = filter.user {
                conditions.append("t.user_subject = ?")
                arguments.append(user)
            }
            if let state = filter.state {
                conditions.append("t.state = ?")
                arguments.append(state.rawValue)
            }
            if let audience = filter.audience {
                conditions.append(
                    """
                    EXISTS (SELECT 1 FROM json_each(t.grant_json, '$.authorization_details') AS d,
                        json_each(d.value, '$.locations') AS l WHERE l.value = ?)
                    """
                )
                arguments.append(audience)
            }
            let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            // One more than asked, so the caller learns whether more match.
            arguments.append(max(1, min(filter.limit, 1000)) + 1)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.*, (SELECT COUNT(*) FROM tokens WHERE task_id = t.id) AS token_count,
                        (SELECT COUNT(*) FROM tokens AS k WHERE k.task_id = t.id AND t.state = 'open'
                            AND k.expires_at > ? AND NOT \(TokenRows.revokedCondition)) AS live_count
                    FROM tasks AS t \(clause)
                    ORDER BY t.created_at DESC, t.id LIMIT ?
                    """,
                arguments: StatementArguments(arguments.map { $0?.databaseValue ?? .null })
            )
            return try rows.map { row in
                TaskSummary(task: try TaskRows.task(row), tokens: row["token_count"], liveTokens: row["live_count"])
            }
        }
    }

    func fetchTree(id: String) async throws -> TaskTree? {
        try await database.read { db -> TaskTree? in
            guard let root = try TaskRows.fetch(db, id: id) else { return nil }
            var tasks = [root]
            var index = 0
            while index < tasks.count {
                let children = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM tasks WHERE parent_id = ? ORDER BY created_at, id",
                    arguments: [tasks[index].id]
                ).map(TaskRows.task)
                tasks.insert(contentsOf: children, at: index + 1)
                index += 1
            }
            var tokens: [TaskTree.TokenState] = []
            for task in tasks {
                for token in try TokenRows.list(db, taskID: task.id) {
                    let covered = try TokenRows.isRevoked(db, id: token.id)
                    tokens.append(TaskTree.TokenState(token: token, revoked: task.state != .open || covered))
                }
            }
            return TaskTree(tasks: tasks, tokens: tokens)
        }
    }

    func listWorkloads(now: Date) async throws -> [WorkloadActivity] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.workload, COUNT(*) AS tasks, SUM(t.state = 'open') AS open_tasks,
                        MAX(t.created_at) AS last_task,
                        (SELECT COUNT(*) FROM tokens AS k JOIN tasks AS o ON o.id = k.task_id
                            WHERE o.workload = t.workload AND o.state = 'open' AND k.expires_at > ?
                            AND NOT \(TokenRows.revokedCondition)) AS live_tokens
                    FROM tasks AS t GROUP BY t.workload ORDER BY last_task DESC LIMIT 1000
                    """,
                arguments: [StoredTime.milliseconds(now.wholeSeconds)]
            ).map { row in
                WorkloadActivity(
                    workload: row["workload"],
                    openTasks: row["open_tasks"],
                    tasks: row["tasks"],
                    liveTokens: row["live_tokens"],
                    lastTask: (row["last_task"] as Int64?).map(StoredTime.date)
                )
            }
        }
    }
}
