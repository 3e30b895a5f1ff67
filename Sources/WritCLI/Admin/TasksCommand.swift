public import ArgumentParser
import Foundation
import WritAPI
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
        let wanted = state.flatMap(TaskBody.State.init(rawValue:))
        if state != nil, wanted == nil { return .unusable("--state must be open, completed, aborted or expired") }
        if let workload, (try? SPIFFEID(workload)) == nil {
            return .unusable(
                "--workload takes a SPIFFE ID (spiffe://trust-domain/path); `writ workloads list` shows them"
            )
        }
        guard (1...1000).contains(limit) else { return .unusable("--limit must be between 1 and 1000") }
        return await connection.run { session throws(CommandOutcome) in
            let query = TaskListQuery(
                workload: workload,
                user: user,
                state: wanted,
                audience: audience,
                limit: UInt64(limit)
            )
            let reply = try await session.get("/v1/admin/tasks", query: query, as: TaskListResponse.self)
            if connection.json { return .json(reply.json) }
            let tasks = reply.value.tasks
            guard !tasks.isEmpty else { return CommandOutcome(output: "no tasks match", exitCode: 0) }
            var table = Table("TASK", "STATE", "WORKLOAD", "USER", "TYPE", "TOKENS", "CREATED", "DEADLINE")
            for summary in tasks {
                let task = summary.task
                table.add(
                    task.id,
                    task.state.rawValue,
                    task.workload,
                    Render.text(task.user),
                    task.implicit == true ? task.type + " (implicit)" : task.type,
                    "\(summary.liveTokens)/\(summary.tokens)",
                    Render.time(task.createdAt),
                    Render.time(task.deadline)
                )
            }
            let more =
                reply.value.hasMore ? "\n(more tasks match: narrow the filters or raise --limit, up to 1000)" : ""
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
        let path = WireRoutes.path("/v1/admin/tasks/{id}", ["id": id])
        return await connection.run { session throws(CommandOutcome) in
            let reply = try await session.get(path, as: TaskTreeResponse.self)
            if connection.json { return .json(reply.json) }
            let tree = reply.value
            guard let root = tree.tasks.first else { return CommandOutcome(output: "no such task", exitCode: 5) }
            var lines: [String] = []
            func line(_ label: String, _ value: String?) {
                guard let value else { return }
                lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + value)
            }
            line("task", root.id)
            line("state", root.state.rawValue)
            line("reason", root.reason)
            line("workload", root.workload)
            line("created by", root.createdBy)
            line("attestation", root.attestation.rawValue)
            line("user", root.user)
            line(
                "type",
                root.implicit == true ? root.type + " (implicit: made by the token endpoint for one token)" : root.type
            )
            line("purpose", root.purpose)
            line("parent", root.parentID)
            line("root", root.rootID == root.id ? nil : root.rootID)
            if !root.actors.isEmpty { lines.append("delegated by " + root.actors.joined(separator: " ← ")) }
            line("created", Render.time(root.createdAt))
            line("deadline", Render.time(root.deadline))
            line("closed", root.closedAt.map { Render.time($0) })
            for detail in root.grant.authorizationDetails {
                let actions = detail.actions.joined(separator: ",")
                let locations = detail.locations.joined(separator: ",")
                let identifier = detail.identifier.map { " " + $0 } ?? ""
                lines.append("grant       \(actions) \(locations)\(identifier)")
            }
            lines.append("")
            lines.append("TASK TREE")
            for task in tree.tasks {
                let depth = Int(task.depth - root.depth)
                let prefix = depth == 0 ? "" : String(repeating: "   ", count: depth - 1) + "└─ "
                lines.append("\(prefix)\(task.id)  \(task.state.rawValue)  \(task.workload)  \(task.type)")
            }
            lines.append("")
            if tree.tokens.isEmpty {
                lines.append("no tokens issued")
            } else {
                var table = Table("TOKEN (JTI)", "TASK", "AUDIENCE", "BINDING", "EXPIRES", "STATUS")
                for token in tree.tokens {
                    // The broker says revoked when the token's task closed or a revocation names it.
                    let status = token.exp <= tree.time ? "expired" : token.revoked ? "revoked" : "live"
                    table.add(
                        token.jti,
                        token.taskID,
                        token.aud,
                        token.binding.rawValue,
                        Render.time(token.exp),
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
            let reply = try await session.get("/v1/admin/workloads", as: WorkloadListResponse.self)
            if connection.json { return .json(reply.json) }
            let workloads = reply.value.workloads
            guard !workloads.isEmpty else { return CommandOutcome(output: "no workload has a task", exitCode: 0) }
            var table = Table("WORKLOAD", "OPEN TASKS", "TASKS", "LIVE TOKENS", "LAST TASK")
            for workload in workloads {
                table.add(
                    workload.workload,
                    String(workload.openTasks),
                    String(workload.tasks),
                    String(workload.liveTokens),
                    Render.time(workload.lastTaskAt)
                )
            }
            return CommandOutcome(output: table.text, exitCode: 0)
        }
    }
}

/// Table cells.
enum Render {
    /// A text, or `-` when absent.
    static func text(_ value: String?) -> String { value ?? "-" }

    /// Seconds since the epoch as UTC ISO 8601, or `-` when absent.
    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "-" }
        return iso8601(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
