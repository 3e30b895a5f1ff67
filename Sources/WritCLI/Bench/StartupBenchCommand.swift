public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ bench startup`: how long a restart takes to be healthy with a long retained history.
public struct StartupBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time from `writ serve` starting to /healthz answering, with a large retained feed and audit log.",
        discussion: """
            Fills a fresh state directory with --entries retained revocation-feed entries (one in a thousand a \
            workload revocation, the rest task revocations, as completed tasks leave) and --audit audit entries, \
            then starts this same executable's `writ serve` on it --runs times and reports the median time to the \
            first healthy answer. Run it on a release build:
              swift build -c release --product writ && .build/release/writ bench startup --entries 1000000
            """
    )

    @Option(help: "Retained revocation-feed entries.")
    var entries = 1_000_000

    @Option(help: "Audit entries.")
    var audit = 1_000_000

    @Option(help: "Restarts measured.")
    var runs = 5

    @Option(help: "Where the state directory is made (replaced).")
    var state = ".build/bench-startup"

    @Option(help: "The policies the broker loads.")
    var policies = "policies"

    public init() {}

    public func run() async throws {
        let directory = StateDirectory(path: state)
        try? FileManager.default.removeItem(atPath: state)
        try directory.prepare()
        let seeding = ContinuousClock.now
        try await Self.seed(directory, entries: entries, audit: audit)
        print("seeded \(entries) feed entries and \(audit) audit entries in \(ContinuousClock.now - seeding)")
        var times: [Duration] = []
        for run in 0..<runs {
            let elapsed = try await Self.timeToHealthy(state: state, policies: policies)
            times.append(elapsed)
            print("run \(run + 1): healthy after \(Self.milliseconds(elapsed)) ms")
        }
        let sorted = times.sorted()
        print(
            "startup to healthy with \(entries) retained feed entries and \(audit) audit entries: median "
                + "\(Self.milliseconds(sorted[sorted.count / 2])) ms, min \(Self.milliseconds(sorted[0])) ms, max "
                + "\(Self.milliseconds(sorted[sorted.count - 1])) ms (\(runs) runs)"
        )
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    /// Writes the history in large transactions (the benchmark's setup, not the broker's write path).
    static func seed(_ directory: StateDirectory, entries: Int, audit: Int) async throws {
        let stores = try BrokerStores.sqlite(path: directory.database.path)
        let now = Date()
        let workload = try SPIFFEID("spiffe://example.org/bench/startup")
        let slice = 20_000
        for start in stride(from: 0, to: entries, by: slice) {
            let batch = (start..<min(start + slice, entries)).map { index in
                Revocation(
                    sequence: 0,
                    subject: index % 1000 == 999 ? .workload(workload) : .task("tsk_bench_\(index)"),
                    revokedAt: now,
                    retainUntil: now.addingTimeInterval(86_400)
                )
            }
            try await stores.revocations.insert(contentsOf: batch, actor: "bench")
        }
        for start in stride(from: 0, to: audit, by: slice) {
            let batch = (start..<min(start + slice, audit)).map { index in
                AuditEvent("task.completed", actor: workload.description, subject: "tsk_bench_\(index)")
            }
            try await stores.audit.append(contentsOf: batch, at: now)
        }
    }

    /// Starts `writ serve` on a free port and polls /healthz until it answers; stops the broker.
    static func timeToHealthy(state: String, policies: String) async throws -> Duration {
        let port = try FreePort.find()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment
        environment["WRIT_STATE_DIR"] = state
        environment["WRIT_LISTEN"] = "127.0.0.1:\(port)"
        environment["WRIT_TLS_LISTEN"] = "off"
        environment["WRIT_POLICIES"] = policies
        environment["WRIT_LOG_LEVEL"] = "error"
        process.environment = environment
        let started = ContinuousClock.now
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let deadline = started + .seconds(60)
        while ContinuousClock.now < deadline {
            if FreePort.answersHealthy(port: port) { return ContinuousClock.now - started }
            guard process.isRunning else { throw CLIError("writ serve exited with \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw CLIError("the broker was not healthy within 60 s")
    }
}
