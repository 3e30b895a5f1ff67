public import ArgumentParser
import Foundation
import WritAPI
import WritPolicy
import WritToken

/// `writ policy`: check, test, explain and map policies.
public struct PolicyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Validate, test, explain and map the policies that decide what a task may get.",
        subcommands: [
            PolicyCheckCommand.self, PolicyTestCommand.self, PolicyExplainCommand.self, PolicyGraphCommand.self,
            PolicySuggestCommand.self,
        ]
    )

    public init() {}
}

/// Loads a policy directory or renders every diagnostic.
enum PolicyDirectory {
    static func load(_ path: String) -> Result<PolicySet, CommandOutcome> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(
                CommandOutcome(output: "error: \(path) is not a directory of policies", exitCode: WritExitCode.unusable)
            )
        }
        switch PolicyLoader.load(directory: URL(fileURLWithPath: path)) {
        case .success(let set): return .success(set)
        case .failure(let errors):
            return .failure(
                CommandOutcome(
                    output: errors.description + "\n\(errors.diagnostics.count) error(s); the policies were not loaded",
                    exitCode: WritExitCode.rejected
                )
            )
        }
    }
}

/// `writ policy check [DIR]`.
public struct PolicyCheckCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every policy file; each error names file, line and column, and what is expected.",
        discussion: """
            Exits 0 when every file is valid, 1 otherwise.

            Example:
              writ policy check policies
            """
    )

    @Argument(help: "The policy directory.")
    var directory: String = "policies"

    public init() {}

    public func run() async throws { try evaluate().finish() }

    /// Checks the directory.
    public func evaluate() -> CommandOutcome {
        switch PolicyDirectory.load(directory) {
        case .failure(let outcome): return outcome
        case .success(let set):
            let permits = set.rules.filter { $0.effect == .permit }.count
            return CommandOutcome(
                output:
                    "ok: \(set.rules.count) rules (\(permits) permit, \(set.rules.count - permits) forbid) and "
                    + "\(set.monitoring.count) monitoring rules in \(directory)",
                exitCode: WritExitCode.success
            )
        }
    }
}

/// `writ policy test [DIR]`.
public struct PolicyTestCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the policy tests in DIR/tests and report each pass or failure.",
        discussion: """
            Each test file holds requests and their expected decisions (see docs/policy.md). Exits 0 when \
            every test passes, 1 otherwise.

            Example:
              writ policy test policies
            """
    )

    @Argument(help: "The policy directory; tests are read from its tests/ folder.")
    var directory: String = "policies"

    @Flag(help: "Print passing tests too.")
    var verbose = false

    public init() {}

    public func run() async throws { try evaluate().finish() }

    /// Runs the tests.
    public func evaluate() -> CommandOutcome {
        let policies: PolicySet
        switch PolicyDirectory.load(directory) {
        case .failure(let outcome): return outcome
        case .success(let set): policies = set
        }
        let testDirectory = URL(fileURLWithPath: directory).appendingPathComponent("tests")
        let files: [URL]
        do {
            files = try PolicyLoader.files(in: testDirectory)
        } catch {
            return CommandOutcome(
                output: "error: no tests folder at \(testDirectory.path)",
                exitCode: WritExitCode.unusable
            )
        }
        var lines: [String] = []
        var passed = 0
        var failed = 0
        for file in files {
            let name = testDirectory.relativePath + "/" + file.lastPathComponent
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let cases: [PolicyTestCase]
            do {
                cases = try PolicyTestRunner.tests(in: text, file: name)
            } catch {
                lines.append("\(error)")
                failed += 1
                continue
            }
            let monitoring: [MonitoringTestCase]
            do {
                monitoring = try PolicyTestRunner.monitoringTests(in: text, file: name)
            } catch {
                lines.append("\(error)")
                failed += 1
                continue
            }
            var filePassed = 0
            var fileLines: [String] = []
            let runs: [(String, SourceLocation, String?)] =
                cases.map { ($0.name, $0.location, $0.failure(against: policies)) }
                + monitoring.map { ($0.name, $0.location, $0.failure(against: policies)) }
            for (testName, location, failure) in runs {
                if let failure {
                    failed += 1
                    fileLines.append("  FAIL \(testName)  (\(location))")
                    fileLines.append("       \(failure)")
                } else {
                    passed += 1
                    filePassed += 1
                    if verbose { fileLines.append("  PASS \(testName)") }
                }
            }
            lines.append("\(name): \(filePassed)/\(runs.count) passed")
            lines.append(contentsOf: fileLines)
        }
        lines.append(String(repeating: "-", count: 72))
        lines.append("\(passed) passed, \(failed) failed")
        return CommandOutcome(
            output: lines.joined(separator: "\n"),
            exitCode: failed == 0 && passed > 0 ? WritExitCode.success : WritExitCode.rejected
        )
    }
}

/// `writ policy explain REQUEST`.
public struct PolicyExplainCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the decision for a request: the rules behind it and, for a denial, the smallest change.",
        discussion: """
            REQUEST is a JSON or YAML file in the request format of policy tests (docs/policy.md). Exits 0 for \
            a permit, 1 for a denial, 2 when the request or policies cannot be read.

            Example:
              writ policy explain --policies policies request.json
            """
    )

    @Option(help: "The policy directory.")
    var policies: String = "policies"

    @Flag(help: "Print JSON.")
    var json = false

    @Argument(help: "The request file.")
    var request: String

    public init() {}

    public func run() async throws { try evaluate().finish() }

    /// Explains the request.
    public func evaluate() -> CommandOutcome {
        let set: PolicySet
        switch PolicyDirectory.load(policies) {
        case .failure(let outcome): return CommandOutcome(output: outcome.output, exitCode: WritExitCode.unusable)
        case .success(let loaded): set = loaded
        }
        guard let text = try? String(contentsOfFile: request, encoding: .utf8) else {
            return CommandOutcome(output: "error: cannot read \(request)", exitCode: WritExitCode.unusable)
        }
        let parsed: PolicyRequest
        do {
            parsed = try RequestReader.request(from: text, file: request)
        } catch {
            return CommandOutcome(output: "\(error)", exitCode: WritExitCode.unusable)
        }
        let explanation = Explanation(request: parsed, policies: set)
        return CommandOutcome(
            output: json ? JSONWriter.string(explanation.json) : explanation.text,
            exitCode: explanation.decision.isPermit ? WritExitCode.success : WritExitCode.rejected
        )
    }
}

/// `writ policy graph [DIR]`.
public struct PolicyGraphCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Map which workloads may reach which resource servers with which actions, as DOT (and SVG).",
        discussion: """
            Prints Graphviz DOT. With --svg, also renders an SVG with Graphviz's `dot` (installed by \
            `make deps`). Permits are solid edges; forbids are dashed and red.

            With --observed, asks the broker (admin API) what its usage baselines saw over the last --days: \
            each permit edge says how often it was used, a permit never used is dotted and grey (a candidate to \
            remove), and each workload's observed traffic to each resource server is drawn in blue, or in red \
            when every attempt was refused.

            Examples:
              writ policy graph policies --svg segmentation.svg
              writ policy graph policies --observed --days 7 --svg observed.svg
            """
    )

    @Argument(help: "The policy directory.")
    var directory: String = "policies"

    @Option(help: "Write an SVG rendering here (needs Graphviz's dot).")
    var svg: String?

    @Flag(help: "Overlay what the broker observed (needs a broker and an operator token).")
    var observed = false

    @Option(help: "With --observed: the days of usage to count.")
    var days: Int = 30

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// Builds the map, without the broker.
    public func evaluate() -> CommandOutcome { render(SegmentationGraph(policies: loaded ?? PolicySet(rules: []))) }

    /// Builds the map, with what the broker observed when asked.
    public func outcome() async -> CommandOutcome {
        if case .failure(let outcome) = PolicyDirectory.load(directory) { return outcome }
        guard observed else { return evaluate() }
        guard (1...365).contains(days) else { return .unusable("--days must be from 1 to 365") }
        let set = loaded ?? PolicySet(rules: [])
        return await connection.run { session throws(CommandOutcome) in
            let usage = try await ObservedUsageReader.read(session, days: days)
            return render(SegmentationGraph(policies: set, observed: usage))
        }
    }

    private var loaded: PolicySet? {
        if case .success(let set) = PolicyDirectory.load(directory) { return set }
        return nil
    }

    private func render(_ graph: SegmentationGraph) -> CommandOutcome {
        if case .failure(let outcome) = PolicyDirectory.load(directory) { return outcome }
        let dot = graph.dot
        if let svg {
            do {
                try GraphvizRenderer.render(dot, to: svg)
            } catch {
                return CommandOutcome(output: dot + "\nerror: \(error)", exitCode: WritExitCode.unusable)
            }
        }
        return CommandOutcome(output: dot, exitCode: WritExitCode.success)
    }
}

/// `writ policy suggest [DIR]`.
public struct PolicySuggestCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "List permits and resource entries no observed task used: a least-privilege report.",
        discussion: """
            Asks the broker (admin API) what its usage baselines saw over the last --days, and sets it against \
            every permit of DIR: a permit none of whose workloads and task types was observed, and each resource \
            entry (per resource server) no observed task used, is a candidate to remove or narrow. --all also \
            lists the entries that were used. Exits 0, or 1 when it has candidates (for a CI check).

            Example:
              writ policy suggest policies --days 30
            """
    )

    @Argument(help: "The policy directory.")
    var directory: String = "policies"

    @Option(help: "The days of usage to count.")
    var days: Int = 30

    @Flag(help: "Also list the entries that were used.")
    var all = false

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        let outcome = await outcome()
        // The report is the output, candidates or not; only a failure to make it goes to standard error.
        if outcome.exitCode == WritExitCode.rejected {
            try outcome.finish()
        } else {
            try outcome.finishReportingErrors()
        }
    }

    /// The report.
    public func outcome() async -> CommandOutcome {
        let set: PolicySet
        switch PolicyDirectory.load(directory) {
        case .failure(let outcome): return outcome
        case .success(let loaded): set = loaded
        }
        guard (1...365).contains(days) else { return .unusable("--days must be from 1 to 365") }
        return await connection.run { session throws(CommandOutcome) in
            let usage = try await ObservedUsageReader.read(session, days: days)
            let findings = UsageSuggestion.report(policies: set, observed: usage)
            let candidates = findings.filter { $0.kind != .used }
            if connection.json {
                let items: [JSONValue] = findings.map { finding in
                    var members: [String: JSONValue] = [
                        "rule": .string(finding.rule), "kind": .string(finding.kind.rawValue),
                        "location": .string(finding.location.description), "uses": .integer(Int64(finding.uses)),
                        "tasks": .integer(Int64(finding.tasks)),
                    ]
                    if let entry = finding.entry { members["entry"] = .string(entry) }
                    return .object(members)
                }
                return CommandOutcome(
                    output: JSONWriter.string(.object(["findings": .array(items), "days": .integer(Int64(days))])),
                    exitCode: candidates.isEmpty ? WritExitCode.success : WritExitCode.rejected
                )
            }
            let shown = all ? findings : candidates
            let header = "\(candidates.count) candidates over the last \(days) days of observed usage"
            let lines = shown.map(\.text)
            return CommandOutcome(
                output: ([header] + lines).joined(separator: "\n"),
                exitCode: candidates.isEmpty ? WritExitCode.success : WritExitCode.rejected
            )
        }
    }
}

/// Reads the broker's baselines into observed usage.
enum ObservedUsageReader {
    static func read(_ session: AdminClient.Session, days: Int) async throws(CommandOutcome) -> ObservedUsage {
        let reply = try await session.get("/v1/admin/usage", query: UsageQuery(), as: UsageResponse.self)
        let baselines = reply.value.baselines.map { body in
            var baseline = UsageBaseline(workload: body.workload, taskType: body.taskType, now: reply.value.time)
            baseline.tasks = body.tasks
            for use in body.uses {
                baseline.uses[
                    .init(
                        audience: use.audience,
                        resourceType: use.resourceType,
                        action: use.action,
                        prefix: use.prefix
                    )
                ] = .init(allowed: use.allowed, refused: use.refused, lastSeen: use.lastSeen)
            }
            return baseline
        }
        return ObservedUsage(baselines: baselines, since: reply.value.time - Int64(days) * 86_400)
    }
}

/// Runs Graphviz's `dot` to turn DOT into SVG.
enum GraphvizRenderer {
    static func render(_ dot: String, to path: String) throws {
        let candidates = ["/usr/bin/dot", "/usr/local/bin/dot"]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CLIError("Graphviz's dot is not installed; run `make deps` (or apt-get install graphviz)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-Tsvg", "-o", path]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(dot.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("dot failed with status \(process.terminationStatus)")
        }
    }
}
