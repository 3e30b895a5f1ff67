public import ArgumentParser
import Foundation
import WritBenchmarks
import WritBroker
import WritPolicy
import WritToken

/// `writ bench usage`: what monitoring costs the broker and how fast a quarantine reaches a resource server.
public struct UsageBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Time usage-report ingestion under token load, and a quarantine's reach; size a stored baseline.",
        discussion: """
            Against a broker started with the benchmark policies and benchmarks/usage-broker.yaml:
              WRIT_POLICIES=benchmarks/policies WRIT_RATE_LIMIT=1000000 WRIT_OPEN_TASKS=1000000 WRIT_LOG_LEVEL=error \\
                WRIT_STATE_DIR=.build/bench-usage .build/release/writ serve --config benchmarks/usage-broker.yaml &
              .build/release/writ bench usage --broker http://127.0.0.1:8080 --state .build/bench-usage
            Issues tokens alone for --seconds, then again while --reporters resource-server reporters post reports \\
            of --records records; then times --trials probers from their sixth refusal to the refusal of their \\
            valid request at a verifier reporting every second. Last, the bytes a stored baseline takes.
            """
    )

    @Option(help: "The broker (benchmark policies, benchmarks/usage-broker.yaml).")
    var broker = "http://127.0.0.1:8080"

    @Option(help: "That broker's state directory (for the development workload key).")
    var state = ".writ"

    @Option(help: "Seconds of each throughput phase.")
    var seconds = 10.0

    @Option(help: "Concurrent reporters.")
    var reporters = 2

    @Option(help: "Records per report.")
    var records = 2000

    @Option(help: "Probers timed.")
    var trials = 30

    @Option(help: "Records per second the reporters aim at together (0: as fast as the broker takes them).")
    var recordsPerSecond = 0

    public init() {}

    public func run() async throws {
        guard seconds > 0, reporters > 0, (1...10_000).contains(records), trials >= 0 else {
            throw ValidationError("--seconds > 0, --reporters > 0, --records 1...10000, --trials ≥ 0")
        }
        let key = try StateDirectory(path: state).developmentKey(named: DevelopmentIdentity.workloadKeyName)
        let benchmark = UsageBenchmark(
            broker: broker,
            assertion: { id in
                try DevelopmentIdentity.workloadAssertion(
                    for: try SPIFFEID(id),
                    audience: "writ",
                    key: key,
                    now: Date(),
                    lifetime: 3600
                )
            },
            seconds: seconds,
            reporters: reporters,
            recordsPerReport: records,
            trials: trials,
            recordsPerSecond: recordsPerSecond
        )
        print(try await benchmark.run().report)
        let typical: Int = Self.storedBytes(uses: 20, prefixLength: 24)
        let full: Int = Self.storedBytes(uses: UsageBaseline.maximumEntries, prefixLength: 40)
        print("stored baseline, typical (20 uses), 200 finished tasks: \(typical) bytes")
        print("stored baseline, full (256 uses), 200 finished tasks: \(full) bytes")
    }

    /// The bytes of a stored baseline with `uses` uses of identifier prefixes about `prefixLength` long.
    static func storedBytes(uses: Int, prefixLength: Int) -> Int {
        var baseline = UsageBaseline(
            workload: "spiffe://example.org/agents/retrieval-assistant",
            taskType: "answer-question",
            now: 1_800_000_000
        )
        baseline.tasks = 5000
        for index in 0..<uses {
            let prefix = String(
                "departments/section-\(index)/".padding(toLength: prefixLength, withPad: "x", startingAt: 0)
            )
            baseline.record(
                .init(audience: "https://docs.example.org", resourceType: "document", action: "read", prefix: prefix),
                allowed: true,
                count: 1000 + index,
                at: 1_800_000_000 + Int64(index)
            )
        }
        for task in 0..<UsageBaseline.recentTasks {
            baseline.finish(requests: 5 + task % 20, refusals: task % 3, tokens: 1 + task % 2, at: 1_800_000_000)
        }
        return baseline.storedJSON.utf8.count
    }
}
