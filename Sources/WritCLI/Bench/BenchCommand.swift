public import ArgumentParser
import Foundation
import WritBenchmarks
import WritBroker
import WritToken

/// `writ bench`: load against a running broker, behind docs/benchmarks.md.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a running broker and time its start. Build with -c release first.",
        discussion: """
            The verify-path and policy yardsticks (against the raw signature check and jwt-kit) are a separate \
            binary, so that this one never links what it is measured against: make bench, or
              swift build -c release --product writ-bench && .build/release/writ-bench verify
            """,
        subcommands: [
            IssueBenchCommand.self, RevocationBenchCommand.self, StartupBenchCommand.self, FloodBenchCommand.self,
            StatusListBenchCommand.self, UsageBenchCommand.self,
        ]
    )

    public init() {}
}

/// `writ bench issue`.
public struct IssueBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Load a running broker: token requests, task cycles and revocations at several concurrencies.",
        discussion: """
            Start the broker first with the benchmark policies and limits out of the way (make bench-broker does
            all of this):
              WRIT_POLICIES=benchmarks/policies WRIT_RATE_LIMIT=1000000 WRIT_OPEN_TASKS=1000000 \\
                .build/release/writ serve &
              .build/release/writ bench issue --clients 1,16,64 --seconds 10

            The workload assertion and operator token come from the broker's state directory (--state).
            """
    )

    @Option(help: "The broker's URL.")
    var broker = "http://127.0.0.1:8080"

    @Option(help: "The broker's state directory.")
    var state = ".writ"

    @Option(help: "Concurrent clients, comma-separated.")
    var clients = "1,16,64"

    @Option(help: "Workloads, comma-separated: tokens, cycles, revocations.")
    var workloads = "tokens,cycles,revocations"

    @Option(help: "Token bindings, comma-separated: bearer, dpop, mtls, mtls+dpop.")
    var bindings = "bearer,dpop,mtls,mtls+dpop"

    @Flag(help: "Make each client's DPoP proofs before the clock starts, to measure the broker's cost alone.")
    var presign = false

    @Option(help: "The broker's mutual-TLS URL (for the mtls bindings).")
    var tlsBroker = "https://127.0.0.1:8443"

    @Option(help: "Seconds per measurement.")
    var seconds: Double = 10

    @Option(help: "Seconds of warm-up before each measurement.")
    var warmup: Double = 2

    public init() {}

    public func run() async throws {
        let directory = StateDirectory(path: state)
        let key = try directory.developmentKey(named: DevelopmentIdentity.workloadKeyName)
        guard let operatorToken = try? String(contentsOf: directory.operatorToken, encoding: .utf8) else {
            throw CLIError("no operator token at \(directory.operatorToken.path)")
        }
        let ca = try DevelopmentCA.loadOrCreate(in: directory, trustDomain: "example.org", now: Date())
        let (svid, svidKey) = try ca.issue(
            for: try SPIFFEID("spiffe://example.org/agents/coding-agent"),
            now: Date(),
            lifetime: 6 * 3600
        )
        let mutualTLS = IssueBenchmark.MutualTLSIdentity(
            broker: tlsBroker,
            certificatePEM: try DevelopmentCA.pem(svid),
            keyPEM: svidKey,
            trustPEM: try DevelopmentCA.pem(ca.certificate)
        )
        func benchmark(_ binding: IssueBenchmark.Binding) throws -> IssueBenchmark {
            let workload =
                binding == .bearer
                ? "spiffe://example.org/bench/load-generator" : "spiffe://example.org/agents/coding-agent"
            let assertion = try DevelopmentIdentity.workloadAssertion(
                for: try SPIFFEID(workload),
                audience: "writ",
                key: key,
                now: Date(),
                lifetime: 6 * 3600
            )
            var benchmark = IssueBenchmark(
                broker: broker,
                binding: binding,
                workloadAssertion: assertion,
                operatorToken: operatorToken.trimmingCharacters(in: .whitespacesAndNewlines),
                mutualTLS: mutualTLS,
                seconds: seconds,
                warmup: warmup
            )
            benchmark.presignedProofs = presign
            return benchmark
        }
        print(IssueBenchmark.Result.header)
        for name in workloads.split(separator: ",") {
            guard let workload = IssueBenchmark.Workload(rawValue: String(name)) else {
                throw CLIError("unknown workload \(name); use tokens, cycles or revocations")
            }
            let kinds = workload == .revocations ? ["bearer"] : bindings.split(separator: ",").map(String.init)
            for kind in kinds {
                guard let binding = IssueBenchmark.Binding(rawValue: kind) else {
                    throw CLIError("unknown binding \(kind); use bearer or dpop")
                }
                for count in clients.split(separator: ",").compactMap({ Int($0) }) {
                    let result = try await benchmark(binding).run(workload, clients: count)
                    print(result.row)
                }
            }
        }
    }
}

/// `writ bench revocation`.
public struct RevocationBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revocation",
        abstract: "Revocation reach: verifiers following a running broker's feed, acknowledgement to refusal.",
        discussion: """
            Start the broker first (make bench-broker starts one), then:
              .build/release/writ bench revocation --state .build/bench-state --verifiers 100 --rounds 50
            """
    )

    @Option(
        help: """
            The broker's URL; several brokers of one cluster comma-separated: revocations are made at the first, \
            verifiers follow each in turn.
            """
    )
    var broker = "http://127.0.0.1:8080"

    @Option(help: "The broker's state directory (for the operator token).")
    var state = ".writ"

    @Option(help: "Verifiers following the feed.")
    var verifiers = 100

    @Option(help: "Revocations measured.")
    var rounds = 50

    @Option(help: "Seconds per verification-throughput round.")
    var seconds: Double = 2

    public init() {}

    public func run() async throws {
        let directory = StateDirectory(path: state)
        guard let token = try? String(contentsOf: directory.operatorToken, encoding: .utf8) else {
            throw CLIError("no operator token at \(directory.operatorToken.path)")
        }
        let brokers = broker.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !brokers.isEmpty, brokers.allSatisfy({ URL(string: $0)?.host != nil }) else {
            throw CLIError("--broker takes one broker URL or several, comma-separated")
        }
        let benchmark = RevocationBenchmark(
            brokers: brokers,
            operatorToken: token.trimmingCharacters(in: .whitespacesAndNewlines),
            verifiers: verifiers,
            rounds: rounds,
            seconds: seconds
        )
        print(try await benchmark.run())
    }
}
