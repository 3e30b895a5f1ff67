public import ArgumentParser
import Foundation
import WritAPI
import WritToken
import WritVerifier

/// `writ monitor`: what the detection rules saw and did.
public struct MonitorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Show the latest alerts of the monitoring rules and the workloads in quarantine (admin API).",
        discussion: """
            Each alert names its rule, the window, what was counted and the threshold it crossed, and what the \
            broker did (alert, revoke_task, quarantine_workload). Then, per workload and task type, the baseline \
            (tasks seen, p99 requests per task, refusals per thousand uses, uses known) against the tasks \
            reporting now. docs/monitoring.md says how rules are written.

            With --follow it keeps running and prints each new alert as the broker raises it, one line each \
            (JSON lines with --json), from the admin event stream (GET /v1/admin/events), resuming after a \
            restart of the broker, until interrupted.

            Examples:
              writ monitor
              writ monitor --workload spiffe://example.org/agents/retrieval-assistant --limit 10
              writ monitor --json
              writ monitor --follow
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only this workload's alerts.")
    var workload: String?

    @Option(help: "At most this many alerts (up to 1000).")
    var limit: Int = 20

    @Flag(help: "Keep running: print each new alert as it is raised (the admin event stream), until interrupted.")
    var follow = false

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        if let workload, (try? SPIFFEID(workload)) == nil {
            return .unusable("--workload takes a SPIFFE ID (spiffe://trust-domain/path)")
        }
        guard (1...1000).contains(limit) else { return .unusable("--limit must be between 1 and 1000") }
        if follow { return await connection.run { session throws(CommandOutcome) in try await follow(session) } }
        return await connection.run { session throws(CommandOutcome) in
            let query = MonitorQuery(workload: workload, limit: UInt64(limit))
            let reply = try await session.get("/v1/admin/monitor", query: query, as: MonitorResponse.self)
            if connection.json { return .json(reply.json) }
            let view = reply.value
            var sections: [String] = []
            if view.quarantines.isEmpty {
                sections.append("quarantined: none")
            } else {
                sections.append("quarantined:\n" + QuarantineText.table(view.quarantines))
            }
            if view.alerts.isEmpty {
                sections.append("alerts: none")
            } else {
                var table = Table("AT", "RULE", "RESPONSE", "WORKLOAD", "TASK", "SEEN", "WINDOW")
                for alert in view.alerts {
                    table.add(
                        Render.time(alert.at),
                        alert.rule,
                        alert.response,
                        alert.workload,
                        Render.text(alert.task),
                        "\(alert.observed) > \(alert.threshold)",
                        "\(alert.window)s"
                    )
                }
                let why = view.alerts.prefix(5).map { "  - " + $0.explanation }.joined(separator: "\n")
                sections.append("alerts (newest first):\n" + table.text + "\nwhy:\n" + why)
            }
            let usage = try await session.get(
                "/v1/admin/usage",
                query: UsageQuery(workload: workload),
                as: UsageResponse.self
            )
            sections.append(Self.baselines(usage.value.baselines))
            return CommandOutcome(output: sections.joined(separator: "\n\n"), exitCode: 0)
        }
    }
}

extension MonitorCommand {
    /// Prints each alert raised after the newest one now, as it comes, until interrupted; a broker that stops
    /// answering is waited for (said once), and the stream resumes after the last alert printed.
    func follow(_ session: AdminClient.Session) async throws(CommandOutcome) -> CommandOutcome {
        let newest = try await session.get("/v1/admin/monitor", query: MonitorQuery(limit: 1), as: MonitorResponse.self)
        var last = String(newest.value.alerts.first?.id ?? 0)
        Self.note("following alerts after \(last); Ctrl-C to stop")
        var waiting = false
        while !Task.isCancelled {
            do throws(CommandOutcome) {
                let (resume, ended) = try await session.follow("/v1/admin/events", after: last) {
                    event throws(CommandOutcome) in
                    if waiting {
                        Self.note("the broker answers again")
                        waiting = false
                    }
                    guard event.name == AdminEventStream.alertEvent else { return }
                    let alert: MonitoringAlertBody
                    do {
                        alert = try MonitoringAlertBody(responseBody: Array(event.data.utf8))
                    } catch {
                        throw CommandOutcome(
                            output: "error: an alert on the event stream is not what this writ understands (\(error)); "
                                + "is the broker a different version?",
                            exitCode: WritExitCode.unusable
                        )
                    }
                    guard workload == nil || alert.workload == workload else { return }
                    let line = connection.json ? JSONWriter.string(alert.json) : Self.line(alert)
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
                last = resume
                Self.note("\(ended); following again after \(last)")
            } catch  where error.exitCode == WritExitCode.unreachable {
                if !waiting {
                    let said = error.output.hasSuffix(".") ? String(error.output.dropLast()) : error.output
                    Self.note("\(said); still following")
                }
                waiting = true
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { break }
        }
        return CommandOutcome(output: "", exitCode: 0)
    }

    /// One alert as a line: when, the rule, what the broker did, and why.
    static func line(_ alert: MonitoringAlertBody) -> String {
        "\(Render.time(alert.at))  \(alert.rule)  \(alert.response)  \(alert.explanation)"
    }

    private static func note(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    /// Each workload's baseline per task type against its tasks reporting now.
    static func baselines(_ baselines: [UsageBaselineBody]) -> String {
        guard !baselines.isEmpty else { return "baselines: none yet (no usage reported)" }
        var table = Table(
            "WORKLOAD",
            "TASK TYPE",
            "TASKS",
            "P99 REQ/TASK",
            "P99 SUB-TASKS",
            "REFUSED ‰",
            "USES",
            "NOW: TASKS",
            "REQUESTS",
            "REFUSED"
        )
        for baseline in baselines {
            table.add(
                baseline.workload,
                baseline.taskType,
                String(baseline.tasks),
                baseline.requestsP99.map(String.init) ?? "-",
                baseline.subtasksP99.map(String.init) ?? "-",
                String(baseline.refusalsPerThousand),
                String(baseline.uses.count),
                String(baseline.liveTasks),
                String(baseline.liveRequests),
                String(baseline.liveRefusals)
            )
        }
        return "baseline vs now:\n" + table.text
    }
}

/// `writ quarantine`: workloads held by a monitoring rule.
public struct QuarantineCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List quarantined workloads, or release one (admin API).",
        subcommands: [ListQuarantinesCommand.self, ReleaseQuarantineCommand.self]
    )

    public init() {}
}

/// `writ quarantine list`.
public struct ListQuarantinesCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the workloads in quarantine, with the alert that put each there."
    )

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await connection.run { session throws(CommandOutcome) in
            let reply = try await session.get("/v1/admin/quarantines", as: QuarantineListResponse.self)
            if connection.json { return .json(reply.json) }
            let quarantines = reply.value.quarantines
            guard !quarantines.isEmpty else {
                return CommandOutcome(output: "no workload is in quarantine", exitCode: 0)
            }
            let why = quarantines.compactMap { $0.alert.map { "  - " + $0.explanation } }.joined(separator: "\n")
            return CommandOutcome(output: QuarantineText.table(quarantines) + "\nwhy:\n" + why, exitCode: 0)
        }
    }
}

/// `writ quarantine release WORKLOAD --reason TEXT`.
public struct ReleaseQuarantineCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a quarantined workload: it may start tasks and get tokens again.",
        discussion: """
            Lifts the feed entries that quarantine the workload; from the next second it may start tasks and get \
            tokens again. Tokens revoked by the quarantine stay revoked. The release is audited with its reason.

            Example:
              writ quarantine release spiffe://example.org/agents/retrieval-assistant --reason "injected page removed"
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The workload's SPIFFE ID.") var workload: String
    @Option(help: "Why the workload is released (audited).") var reason: String

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        guard (try? SPIFFEID(workload)) != nil else {
            return .unusable(
                "WORKLOAD must be a SPIFFE ID (spiffe://trust-domain/path); `writ quarantine list` shows them"
            )
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .unusable("--reason must say why the workload is released")
        }
        return await connection.run { session throws(CommandOutcome) in
            let reply = try await session.post(
                "/v1/admin/quarantines/release",
                body: QuarantineReleaseRequest(workload: workload, reason: reason),
                as: QuarantineReleaseResponse.self
            )
            if connection.json { return .json(reply.json) }
            let entries = reply.value.lifts.map { "\($0.lifted.sequence)" }.joined(separator: ", ")
            return CommandOutcome(
                output:
                    "released \(reply.value.workload) (lifted feed entry \(entries)); new tasks are allowed from the "
                    + "next second, tokens revoked by the quarantine stay revoked",
                exitCode: 0
            )
        }
    }
}

enum QuarantineText {
    static func table(_ quarantines: [QuarantineBody]) -> String {
        var table = Table("WORKLOAD", "SINCE", "ENTRY", "RULE")
        for quarantine in quarantines {
            table.add(
                quarantine.workload,
                Render.time(quarantine.since),
                String(quarantine.revocation),
                Render.text(quarantine.alert?.rule)
            )
        }
        return table.text
    }
}
