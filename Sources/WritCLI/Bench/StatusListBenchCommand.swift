public import ArgumentParser
import Foundation
import WritBenchmarks
import WritBroker
import WritToken

/// `writ bench status-list`: what a Token Status List of a million live tokens costs to build, send and read.
public struct StatusListBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status-list",
        abstract: "Time building, signing and reading a Token Status List of a million tokens, and report its size.",
        discussion: """
            Builds the list the broker serves (one bit per token, --revoked of them set at random), compresses it
            with ZLIB at the highest level, signs it as a statuslist+jwt, and reads it back as a relying party
            does (signature, inflate, one bit). Medians of --rounds rounds:
              .build/release/writ bench status-list --tokens 1048576 --revoked 0.01 --rounds 7
            Then times what setting the bits costs the revoking commit: a SQLite database of this broker's schema
            with --tokens token rows, and --commit-rounds closes of a task of four tokens. With --broker, first
            times a polling verifier's refusals against a broker started with the benchmark policies:
              WRIT_STATUS_LIST_TTL=5 WRIT_POLICIES=benchmarks/policies WRIT_RATE_LIMIT=1000000 \\
                WRIT_OPEN_TASKS=1000000 .build/release/writ serve &
              .build/release/writ bench status-list --broker http://127.0.0.1:8080 --tasks 100
            """
    )

    @Option(help: "Tokens in the list.")
    var tokens = StatusListService.listSize

    @Option(help: "The fraction of them revoked.")
    var revoked = 0.01

    @Option(help: "Rounds; the median is reported.")
    var rounds = 7

    @Option(help: "Task closes timed in a SQLite database of --tokens token rows (0: skip).")
    var commitRounds = 200

    @Option(help: "A running broker (benchmark policies) to time a polling verifier's refusals against.")
    var broker: String?

    @Option(help: "That broker's state directory (for the development workload key).")
    var state = ".writ"

    @Option(help: "Tasks completed against --broker.")
    var tasks = 100

    @Option(
        help:
            "Push receivers to time against --broker: resource servers spiffe://example.org/bench/receiver-0… of https://bench.example.org (0: skip)."
    )
    var pushReceivers = 0

    @Option(help: "Events pushed to every receiver.")
    var pushRounds = 20

    @Option(help: "The loopback port the push receivers listen on (the broker must allow http://127.0.0.1:PORT/).")
    var pushPort = 18200

    public init() {}

    public func run() async throws {
        guard tokens > 0, (0...1).contains(revoked), rounds > 0 else {
            throw ValidationError("--tokens > 0, --revoked in 0...1 and --rounds > 0")
        }
        var generator = SystemRandomNumberGenerator()
        var indices = Set<Int>()
        let count = Int(Double(tokens) * revoked)
        while indices.count < count { indices.insert(Int.random(in: 0..<tokens, using: &generator)) }
        let sorted = indices.sorted()
        let key = SigningKey(id: "bench", privateKey: .generate(.es256))
        let uri = "https://broker.example/v1/status-lists/bench.0"
        var build: [Double] = []
        var read: [Double] = []
        var token = ""
        var compressedSize = 0
        for _ in 0..<rounds {
            let started = ContinuousClock.now
            var list = StatusList(count: tokens)
            for index in sorted { list.set(StatusList.Status.invalid.rawValue, at: index) }
            let content = StatusListToken(
                uri: uri,
                issuer: "https://broker.example",
                issuedAt: Date(),
                expiresAt: Date().addingTimeInterval(3600),
                timeToLive: 30,
                list: list
            )
            token = try content.signed(with: key)
            build.append(Self.milliseconds(ContinuousClock.now - started))
            compressedSize = list.compressed().count

            let reading = ContinuousClock.now
            let checked = try StatusListToken.verified(
                token,
                uri: uri,
                issuer: "https://broker.example",
                now: Date(),
                lookup: { _ in key.verificationKey }
            )
            guard let probe = sorted.first, checked.list.status(at: probe) == 1 else {
                throw CLIError("the list read back does not hold a revoked token's bit")
            }
            read.append(Self.milliseconds(ContinuousClock.now - reading))
        }
        print("tokens: \(tokens), revoked: \(count) (\(revoked * 100)%), rounds: \(rounds)")
        print("packed list:              \(Self.kibibytes((tokens + 7) / 8))")
        print("compressed (ZLIB, lst):   \(Self.kibibytes(compressedSize))")
        print("signed statuslist+jwt:    \(Self.kibibytes(token.utf8.count))")
        print("build (bits, compress, sign), median:  \(Self.format(Self.median(build))) ms")
        print("read (verify, inflate, one bit), median: \(Self.format(Self.median(read))) ms")
        if let broker {
            let key = try StateDirectory(path: state).developmentKey(named: DevelopmentIdentity.workloadKeyName)
            let assertion = try DevelopmentIdentity.workloadAssertion(
                for: try SPIFFEID("spiffe://example.org/bench/load-generator"),
                audience: "writ",
                key: key,
                now: Date(),
                lifetime: 3600
            )
            let reach = StatusListReachBenchmark(broker: broker, workloadAssertion: assertion, tasks: tasks)
            print(try await reach.run())
            if pushReceivers > 0 {
                let receivers = try (0..<pushReceivers).map { index in
                    try DevelopmentIdentity.workloadAssertion(
                        for: try SPIFFEID("spiffe://example.org/bench/receiver-\(index)"),
                        audience: "writ",
                        key: key,
                        now: Date(),
                        lifetime: 3600
                    )
                }
                let push = SignalPushBenchmark(
                    broker: broker,
                    workloadAssertion: assertion,
                    receiverAssertions: receivers,
                    rounds: pushRounds,
                    port: pushPort
                )
                print(try await push.run())
            }
        }
        guard commitRounds > 0 else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await StatusMarkingBenchmark.run(
            path: directory.appendingPathComponent("writ.sqlite").path,
            tokens: tokens,
            rounds: commitRounds
        )
        print("the revoking commit, SQLite, \(tokens) token rows, a task of 4 tokens closed, \(commitRounds) rounds:")
        print("  filling the database:                \(Self.format(result.fill)) ms")
        print(
            "  status update (the statement):       median \(Self.format(Self.median(result.update))) ms, "
                + "p99 \(Self.format(Self.percentile(result.update, 0.99))) ms"
        )
        print(
            "  whole close commit (store call):     median \(Self.format(Self.median(result.close))) ms, "
                + "p99 \(Self.format(Self.percentile(result.close, 0.99))) ms"
        )
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func kibibytes(_ bytes: Int) -> String { String(format: "%.1f KiB (%d bytes)", Double(bytes) / 1024, bytes) }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
