public import ArgumentParser
import Foundation
import WritAPI
import WritToken

/// `writ revoke`: kill credentials now. The broker answers only once the revocation is durable.
public struct RevokeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a task, token, workload, user, or everything issued before a time (admin API).",
        discussion: """
            Each prints what it covers (tasks closed, live tokens) and the revocation feed's sequence number; the \
            broker answers only after the revocation is on disk. Verifiers following the feed refuse the tokens \
            within their staleness bound.

            Examples:
              writ revoke task tsk_01a21f1d17f6b7AqPFglJMiWXg
              writ revoke token 8c1d…
              writ revoke workload spiffe://example.org/agents/retrieval-assistant
              writ revoke user alice
              writ revoke before 2026-11-27T22:00:00Z --workload spiffe://example.org/agents/summarizer
              writ revoke lift 42 --reason "revoked the wrong workload"
            """,
        subcommands: [
            RevokeTaskCommand.self, RevokeTokenCommand.self, RevokeWorkloadCommand.self, RevokeUserCommand.self,
            RevokeBeforeCommand.self, RevokeLiftCommand.self,
        ]
    )

    public init() {}

    /// Sends one revocation and renders what it did. With `unlessUnknown` (a filter for `GET /v1/admin/tasks`),
    /// a subject with no task on record is refused: most likely a typo, which would revoke nothing and leave
    /// the real workload or user live.
    static func send(
        _ body: RevocationRequest,
        describing what: String,
        connection: ConnectionOptions,
        unlessUnknown filter: (name: String, value: String)? = nil
    ) async -> CommandOutcome {
        await connection.run { session throws(CommandOutcome) in
            if let filter {
                var query = TaskListQuery(limit: 1)
                switch filter.name {
                case "workload": query.workload = filter.value
                default: query.user = filter.value
                }
                let known = try await session.get("/v1/admin/tasks", query: query, as: TaskListResponse.self)
                if known.value.tasks.isEmpty {
                    throw CommandOutcome.unusable(
                        "no task of \(filter.name) \(filter.value) is on record (closed tasks are kept an hour), so "
                            + "this would revoke nothing that exists: check it with `writ workloads list` or "
                            + "`writ tasks list`, or pass --force to revoke it anyway (it then may not start tasks)"
                    )
                }
            }
            let reply = try await session.post("/v1/admin/revocations", body: body, as: RevocationOutcomeResponse.self)
            if connection.json { return .json(reply.json) }
            let outcome = reply.value
            let sequence = outcome.sequence
            var lines = [
                "revoked \(what)", "tasks closed    \(outcome.tasksClosed.count)",
                "tokens covered  \(outcome.tokensCovered) live", "feed sequence   \(sequence) (durable)",
            ]
            if let entry = outcome.revocations.first {
                switch entry.subject {
                case .workload, .user:
                    lines.append("new tasks       refused until \(Render.iso8601(entry.retainUntil))")
                    lines.append("a mistake?      writ revoke lift \(sequence) --reason TEXT")
                default: break
                }
            }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: 0)
        }
    }
}

/// `writ revoke task ID`.
public struct RevokeTaskCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Abort a task and every sub-task below it; their tokens die with them.",
        discussion: """
            Example:
              writ revoke task tsk_01a21f1d17f6b7AqPFglJMiWXg
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The task id.") var id: String
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await RevokeCommand.send(
            RevocationRequest(kind: .task, id: id),
            describing: "task \(id)",
            connection: connection
        )
    }
}

/// `writ revoke token JTI`.
public struct RevokeTokenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Revoke one token by its jti (`writ tasks show` lists them).",
        discussion: """
            Example:
              writ revoke token 01a21f1d21efA5ghOztbLnGuHvUJ
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The token's jti.") var jti: String
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await RevokeCommand.send(
            RevocationRequest(kind: .token, id: jti),
            describing: "token \(jti)",
            connection: connection
        )
    }
}

/// `writ revoke workload SPIFFE_ID`.
public struct RevokeWorkloadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "Revoke every token of a workload, abort its open tasks, and refuse it new ones for the "
            + "maximum token lifetime.",
        discussion: """
            Example:
              writ revoke workload spiffe://example.org/agents/retrieval-assistant
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The workload's SPIFFE ID.") var spiffeID: String
    @Flag(help: "Revoke even a workload with no task on record.") var force = false
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        guard (try? SPIFFEID(spiffeID)) != nil else {
            return .unusable("\(spiffeID) is not a SPIFFE ID (spiffe://trust-domain/path)")
        }
        return await RevokeCommand.send(
            RevocationRequest(kind: .workload, id: spiffeID),
            describing: "workload \(spiffeID)",
            connection: connection,
            unlessUnknown: force ? nil : ("workload", spiffeID)
        )
    }
}

/// `writ revoke user SUBJECT`.
public struct RevokeUserCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Revoke every token issued for a user and abort the tasks acting for them.",
        discussion: """
            Example:
              writ revoke user alice --json
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The user's subject (sub of their ID token).") var subject: String
    @Flag(help: "Revoke even a user with no task on record.") var force = false
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await RevokeCommand.send(
            RevocationRequest(kind: .user, id: subject),
            describing: "user \(subject)",
            connection: connection,
            unlessUnknown: force ? nil : ("user", subject)
        )
    }
}

/// `writ revoke before TIME`.
public struct RevokeBeforeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "before",
        abstract: "Revoke every token issued before a time (ISO 8601, seconds since the epoch, or `now`), "
            + "optionally only a workload's.",
        discussion: """
            Example:
              writ revoke before 2026-11-27T22:00:00Z --workload spiffe://example.org/agents/summarizer
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "2026-11-27T22:00:00Z, 1795816800, or now.") var time: String
    @Option(help: "Only this workload's tokens (SPIFFE ID).") var workload: String?
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        guard let instant = Self.parse(time) else {
            return .unusable("\(time) is not a time: use ISO 8601 (2026-11-27T22:00:00Z), epoch seconds, or now")
        }
        // Rounded up as every side rounds it: `now` covers the tokens issued earlier in this second.
        var body = RevocationRequest(kind: .issuedBefore, before: Revocation.cutoff(instant).numericDate)
        if let workload {
            guard (try? SPIFFEID(workload)) != nil else {
                return .unusable("\(workload) is not a SPIFFE ID (spiffe://trust-domain/path)")
            }
            body.workload = workload
        }
        let scope = workload.map { " of \($0)" } ?? ""
        return await RevokeCommand.send(
            body,
            describing: "tokens\(scope) issued before \(Render.iso8601(instant))",
            connection: connection
        )
    }

    static func parse(_ text: String) -> Date? {
        if text == "now" { return Date() }
        if let seconds = Int64(text), seconds > 0 { return Date(timeIntervalSince1970: TimeInterval(seconds)) }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
