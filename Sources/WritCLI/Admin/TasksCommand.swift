public import ArgumentParser
import Foundation
import WritToken

/// `writ tasks`: what agents are doing.
public struct TasksCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List and inspect tasks (admin API).",
        subcommands: [ListTasksCommand.self, ShowTaskCommand.self]
    )

    public init() {}
}

/// `writ tasks list`.
public struct ListTasksCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tasks, newest first, with their live and issued token counts.",
        discussion: """
            Examples:
              writ tasks list --state open
              writ tasks list --workload spiffe://example.org/agents/retrieval-assistant
              writ tasks list --user alice --audience https://docs.example.org --json
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only tasks this workload (SPIFFE ID) acts in.")
    var workload: String?

    @Option(help: "Only tasks for this user (the ID token's subject).")
    var user: String?

    @Option(help: "open, completed, aborted or expired.")
    var state: String?

    @Option(help: "Only tasks whose grant names this resource server.")
    var audience: String?

    @Option(help: "At most this many (up to 1000).")
    var limit: Int = 100

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        if let state, !["open", "completed", "aborted", "expired"].contains(state) {
            return .unusable("--state must be open, completed, aborted or expired")
        }
        if let workload, (try? SPIFFEID(workload)) == nil {
            return .unusable(
                "--workload takes a SPIFFE ID (spiffe://trust-domain/path); `writ workloads list` shows them"
            )
        }
        guard (1...1000).contains(limit) else { return .unusable("--limit must be between 1 and 1000") }
        return await connection.run { session throws(CommandOutcome) in
            let body = try await session.get(
                "/v1/admin/tasks",
                query: [
                    ("workload", workload), ("user", user), ("state", state), ("audience", audience),
                    ("limit", String(limit)),
                ]
            )
            if connection.json { return .json(body) }
            let tasks = body.objectValue?["tasks"]?.arrayValue ?? []
            guard !tasks.isEmpty else { return CommandOutcome(output: "no tasks match", exitCode: 0) }
            var table = Table("TASK", "STATE", "WORKLOAD", "USER", "TYPE", "TOKENS", "CREATED", "DEADLINE")
            for task in tasks {
                let members = task.objectValue ?? [:]
                table.add(
                    Render.string(members["id"]),
                    Render.string(members["state"]),
                    Render.string(members["workload"]),
                    Render.string(members["user"]),
                    Render.string(members["type"]),
                    "\(Render.string(members["live_tokens"]))/\(Render.string(members["tokens"]))",
                    Render.time(members["created_at"]),
                    Render.time(members["deadline"])
                )
            }
            let more =
                body.objectValue?["has_more"] == .bool(true)
                ? "\n(more tasks match: narrow the filters or raise --limit, up to 1000)" : ""
            return CommandOutcome(output: table.text + more, exitCode: 0)
        }
    }
}

/// `writ tasks show ID`.
public struct ShowTaskCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a task, its sub-tasks as a tree, and the tokens issued for them.",
        discussion: """
            Example:
              writ tasks show task_3fJ9…
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The task id (txn in its tokens).")
    var id: String

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        let path = "/v1/admin/tasks/" + AdminClient.Session.escape(id)
        return await connection.run { session throws(CommandOutcome) in
            let body = try await session.get(path)
            if connection.json { return .json(body) }
            let members = body.objectValue ?? [:]
            let tasks = (members["tasks"]?.arrayValue ?? []).compactMap(\.objectValue)
            let tokens = (members["tokens"]?.arrayValue ?? []).compactMap(\.objectValue)
            let now = members["time"]?.integerValue ?? Int64(Date().timeIntervalSince1970)
            guard let root = tasks.first else { return CommandOutcome(output: "no such task", exitCode: 5) }
            var lines: [String] = []
            for (label, key) in [
                ("task", "id"), ("state", "state"), ("reason", "reason"), ("workload", "workload"),
                ("created by", "created_by"), ("attestation", "attestation"), ("user", "user"), ("type", "type"),
                ("purpose", "purpose"), ("parent", "parent_id"), ("root", "root_id"),
            ] where root[key] != nil && !(key == "root_id" && root["root_id"] == root["id"]) {
                lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + Render.string(root[key]))
            }
            let actors = (root["actors"]?.arrayValue ?? []).map { Render.string($0) }
            if !actors.isEmpty { lines.append("delegated by " + actors.joined(separator: " ← ")) }
            for (label, key) in [("created", "created_at"), ("deadline", "deadline"), ("closed", "closed_at")]
            where root[key] != nil {
                lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + Render.time(root[key]))
            }
            let details = root["grant"]?.objectValue?["authorization_details"]?.arrayValue ?? []
            for detail in details.compactMap(\.objectValue) {
                let actions = (detail["actions"]?.arrayValue ?? []).map { Render.string($0) }.joined(separator: ",")
                let locations = (detail["locations"]?.arrayValue ?? []).map { Render.string($0) }
                    .joined(separator: ",")
                let identifier = detail["identifier"].map { " " + Render.string($0) } ?? ""
                lines.append("grant       \(actions) \(locations)\(identifier)")
            }
            lines.append("")
            lines.append("TASK TREE")
            let rootDepth = root["depth"]?.integerValue ?? 0
            for task in tasks {
                let depth = Int((task["depth"]?.integerValue ?? rootDepth) - rootDepth)
                let prefix = depth == 0 ? "" : String(repeating: "   ", count: depth - 1) + "└─ "
                lines.append(
                    "\(prefix)\(Render.string(task["id"]))  \(Render.string(task["state"]))  "
                        + "\(Render.string(task["workload"]))  \(Render.string(task["type"]))"
                )
            }
            lines.append("")
            if tokens.isEmpty {
                lines.append("no tokens issued")
            } else {
                var table = Table("TOKEN (JTI)", "TASK", "AUDIENCE", "BINDING", "EXPIRES", "STATUS")
                for token in tokens {
                    let expired = (token["exp"]?.integerValue ?? 0) <= now
                    // The broker says revoked when the token's task closed or a revocation names it.
                    let status = expired ? "expired" : token["revoked"] == .bool(true) ? "revoked" : "live"
                    table.add(
                        Render.string(token["jti"]),
                        Render.string(token["task_id"]),
                        Render.string(token["aud"]),
                        Render.string(token["binding"]),
                        Render.time(token["exp"]),
                        status
                    )
                }
                lines.append(table.text)
            }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: 0)
        }
    }
}

/// `writ workloads`.
public struct WorkloadsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workloads",
        abstract: "See which workloads are active (admin API).",
        subcommands: [ListWorkloadsCommand.self]
    )

    public init() {}
}

/// `writ workloads list`.
public struct ListWorkloadsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Workloads with tasks on record: open tasks, all tasks, live tokens, last task.",
        discussion: """
            Example:
              writ workloads list
            """
    )

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await connection.run { session throws(CommandOutcome) in
            let body = try await session.get("/v1/admin/workloads")
            if connection.json { return .json(body) }
            let workloads = (body.objectValue?["workloads"]?.arrayValue ?? []).compactMap(\.objectValue)
            guard !workloads.isEmpty else { return CommandOutcome(output: "no workload has a task", exitCode: 0) }
            var table = Table("WORKLOAD", "OPEN TASKS", "TASKS", "LIVE TOKENS", "LAST TASK")
            for workload in workloads {
                table.add(
                    Render.string(workload["workload"]),
                    Render.string(workload["open_tasks"]),
                    Render.string(workload["tasks"]),
                    Render.string(workload["live_tokens"]),
                    Render.time(workload["last_task_at"])
                )
            }
            return CommandOutcome(output: table.text, exitCode: 0)
        }
    }
}

/// Cells from JSON values.
enum Render {
    static func string(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .double(let number): return String(number)
        case nil, .null: return "-"
        default: return JSONWriter.string(value ?? .null)
        }
    }

    /// Seconds since the epoch as UTC ISO 8601.
    static func time(_ value: JSONValue?) -> String {
        guard let seconds = value?.integerValue else { return "-" }
        return iso8601(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
