public import Foundation
import GRDB
public import WritToken

/// Which tasks an operator asks for.
public struct TaskFilter: Sendable, Hashable {
    /// The acting workload.
    public var workload: String?
    /// The user the task is for.
    public var user: String?
    /// `open`, `completed`, `aborted` or `expired`.
    public var state: TaskState?
    /// A resource server the grant names.
    public var audience: String?
    /// At most this many, newest first.
    public var limit = 100

    /// No filter.
    public init() {}
}

/// A task as operators list it: the stored task and how many of its tokens are live.
public struct TaskSummary: Sendable, Hashable {
    /// The task.
    public let task: BrokerTask
    /// Tokens issued for it.
    public let tokens: Int
    /// Those still usable: unexpired, and the task open (a closed task's tokens are revoked).
    public let liveTokens: Int

    /// The task's JSON with the token counts.
    public var json: JSONValue {
        guard case .object(var members) = task.json else { return task.json }
        members["tokens"] = .integer(Int64(tokens))
        members["live_tokens"] = .integer(Int64(liveTokens))
        return .object(members)
    }
}

/// A workload as operators see it.
public struct WorkloadActivity: Sendable, Hashable {
    /// Its SPIFFE ID.
    public let workload: String
    /// Its open tasks.
    public let openTasks: Int
    /// Its tasks still recorded, open or closed.
    public let tasks: Int
    /// Its usable tokens: unexpired, of open tasks.
    public let liveTokens: Int
    /// When it last began a task.
    public let lastTask: Date?

    /// The JSON form.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "workload": .string(workload), "open_tasks": .integer(Int64(openTasks)), "tasks": .integer(Int64(tasks)),
            "live_tokens": .integer(Int64(liveTokens)),
        ]
        if let lastTask { members["last_task_at"] = .integer(lastTask.numericDate) }
        return .object(members)
    }
}

extension Broker {
    /// Tasks matching a filter, newest first: at most one more than the filter's limit, so a caller can tell
    /// whether more match.
    public func tasks(matching filter: TaskFilter) async throws(BrokerError) -> [TaskSummary] {
        let now = clock.now.numericDate
        return try await read("list tasks") { db in
            var conditions: [String] = []
            // In the order of the statement's placeholders: the live-token count's first.
            var arguments: [(any DatabaseValueConvertible)?] = [now]
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
                            AND k.expires_at > ? AND NOT \(TokenStore.revokedCondition)) AS live_count
                    FROM tasks AS t \(clause)
                    ORDER BY t.created_at DESC, t.id LIMIT ?
                    """,
                arguments: StatementArguments(arguments.map { $0?.databaseValue ?? .null })
            )
            return try rows.map { row in
                TaskSummary(task: try TaskStore.task(row), tokens: row["token_count"], liveTokens: row["live_count"])
            }
        }
    }

    /// A task with every task below it (depth first, parents before children) and each one's tokens, each
    /// with whether it is revoked (its task closed, or a token or issued-before revocation covering it).
    public func taskTree(
        id: String
    ) async throws(BrokerError) -> (
        tasks: [BrokerTask], tokens: [(token: IssuedToken, revoked: Bool)]
    ) {
        let found = try await read("task tree") { db -> ([BrokerTask], [(IssuedToken, Bool)])? in
            guard let root = try TaskStore.fetch(db, id: id) else { return nil }
            var tasks = [root]
            var index = 0
            while index < tasks.count {
                let children = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM tasks WHERE parent_id = ? ORDER BY created_at, id",
                    arguments: [tasks[index].id]
                ).map(TaskStore.task)
                tasks.insert(contentsOf: children, at: index + 1)
                index += 1
            }
            var tokens: [(IssuedToken, Bool)] = []
            for task in tasks {
                for token in try TokenStore.list(db, taskID: task.id) {
                    let covered =
                        try Bool.fetchOne(
                            db,
                            sql: "SELECT \(TokenStore.revokedCondition) FROM tokens AS k WHERE k.jti = ?",
                            arguments: [token.id]
                        ) ?? false
                    tokens.append((token, task.state != .open || covered))
                }
            }
            return (tasks, tokens)
        }
        guard let found else { throw BrokerError(.notFound, "no task \(id.prefix(64))") }
        return found
    }

    /// Every workload with a task on record, most recently active first.
    public func workloadActivity() async throws(BrokerError) -> [WorkloadActivity] {
        let now = clock.now.numericDate
        return try await read("list workloads") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.workload, COUNT(*) AS tasks, SUM(t.state = 'open') AS open_tasks,
                        MAX(t.created_at) AS last_task,
                        (SELECT COUNT(*) FROM tokens AS k JOIN tasks AS o ON o.id = k.task_id
                            WHERE o.workload = t.workload AND o.state = 'open' AND k.expires_at > ?
                            AND NOT \(TokenStore.revokedCondition)) AS live_tokens
                    FROM tasks AS t GROUP BY t.workload ORDER BY last_task DESC LIMIT 1000
                    """,
                arguments: [now]
            ).map { row in
                WorkloadActivity(
                    workload: row["workload"],
                    openTasks: row["open_tasks"],
                    tasks: row["tasks"],
                    liveTokens: row["live_tokens"],
                    lastTask: (row["last_task"] as Double?).map { Date(timeIntervalSince1970: $0) }
                )
            }
        }
    }

    /// Audit entries after a sequence number, oldest first.
    public func auditEntries(after sequence: Int64, limit: Int) async throws(BrokerError) -> [AuditEntry] {
        try await read("audit page") { db in
            try AuditLog.list(db, after: sequence, limit: max(1, min(limit, 1000)))
        }
    }

    /// The latest `count` audit entries, oldest first.
    public func latestAuditEntries(_ count: Int) async throws(BrokerError) -> [AuditEntry] {
        guard count > 0 else { return [] }
        return try await read("audit tail") { db in
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return try AuditLog.list(db, after: max(0, last - Int64(count)), limit: count)
        }
    }

    /// Walks the audit chain (checking first that it still holds the `anchor` entry, when given); the problem
    /// is nil when it is intact. Also returns how many entries were checked and the last sequence number.
    public func verifyAudit(against anchor: AuditLog.Anchor? = nil) async throws(BrokerError) -> AuditLog.Report {
        try await read("audit verify") { db in
            do {
                return try AuditLog.report(db, against: anchor)
            } catch let pruned as AuditLog.AnchorPruned {
                throw BrokerError(.anchorPruned, pruned.description)
            }
        }
    }
}
