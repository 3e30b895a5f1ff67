import ArgumentParser

/// `writ-bench`: the yardsticks behind docs/benchmarks.md — Writ's verify path against the raw signature check
/// and jwt-kit, and the policy engine's decision latency. A binary of its own, so that `writ` (what a broker
/// runs) never links the libraries it is measured against.
@main
struct WritBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writ-bench",
        abstract: "Measure Writ's verify path and policy engine on this machine. Build with -c release first.",
        discussion: """
            Load against a running broker (token requests, revocation reach, start-up, floods) is `writ bench`.
            """,
        subcommands: [VerifyBenchCommand.self, PolicyBenchCommand.self]
    )
}

/// `writ-bench verify`.
struct VerifyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Raw P-256 verify vs Writ verify+authorize vs jwt-kit, per core, and Writ on several cores.",
        discussion: """
            Every measurement runs in interleaved rounds so they share the machine's conditions; the report \
            quotes medians and their ratios.

            Example:
              swift build -c release --product writ-bench && .build/release/writ-bench verify --seconds 2 --rounds 5
            """
    )

    @Option(help: "Seconds per round of each measurement.")
    var seconds: Double = 2

    @Option(help: "Rounds per measurement.")
    var rounds: Int = 5

    @Option(help: "Threads for the multi-core measurement.")
    var threads: Int = 2

    @Flag(help: "Print the cost of each stage of one verification instead.")
    var breakdown = false

    func run() async throws {
        if breakdown {
            print(try VerifyBreakdown(seconds: seconds, rounds: rounds).run())
            return
        }
        let result = try await VerifyBenchmark(seconds: seconds, rounds: rounds, threads: threads).run()
        print(result.report)
    }
}

/// `writ-bench policy`.
struct PolicyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Decision latency for 1,000 rules across 200 workloads, one core (p50/p99).",
        discussion: """
            Example:
              swift build -c release --product writ-bench && .build/release/writ-bench policy --decisions 200000
            """
    )

    @Option(help: "How many decisions to time.")
    var decisions: Int = 200_000

    func run() async throws {
        print(try PolicyBenchmark(decisions: decisions).run())
    }
}
