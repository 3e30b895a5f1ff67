import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WritAPI
import WritToken
import WritVerifier

/// What monitoring costs and how fast it acts, against a running broker (the benchmark policies and
/// `benchmarks/usage-broker.yaml`):
///
/// 1. token issuance alone, then the same issuance while resource-server reporters send usage reports as fast
///    as the broker takes them: tokens per second both ways, and usage records taken in per second;
/// 2. `trials` probers, each a fresh workload with a bearer token checked by a `TokenVerifier` that records
///    usage, reports it every second (`UsageReporter`) and follows the feed (`RevocationFeedClient`): six
///    refusals cross the benchmark policy's threshold, and the time from the sixth to the verifier refusing
///    the prober's valid request as revoked is recorded.
public struct UsageBenchmark: Sendable {
    /// The broker's base URL (its issuer).
    public let broker: String
    /// A JWT-SVID for a workload of the development trust domain.
    public let assertion: @Sendable (String) throws -> String
    /// Seconds of each throughput phase.
    public let seconds: Double
    /// Concurrent reporters in the second phase.
    public let reporters: Int
    /// Records per report.
    public let recordsPerReport: Int
    /// Probers timed.
    public let trials: Int
    /// Records per second all reporters together aim at; 0: as fast as the broker takes them.
    public let recordsPerSecond: Int

    static let audience = "https://bench.example.org"
    static let resourceServer = "spiffe://example.org/bench/resource-server"
    static let loadGenerator = "spiffe://example.org/bench/load-generator"

    /// A benchmark.
    public init(
        broker: String,
        assertion: @escaping @Sendable (String) throws -> String,
        seconds: Double,
        reporters: Int,
        recordsPerReport: Int,
        trials: Int,
        recordsPerSecond: Int = 0
    ) {
        self.recordsPerSecond = recordsPerSecond
        self.broker = broker
        self.assertion = assertion
        self.seconds = seconds
        self.reporters = reporters
        self.recordsPerReport = recordsPerReport
        self.trials = trials
    }

    /// The figures.
    public struct Result: Sendable {
        public var tokensAlone: Double
        public var tokensWhileReporting: Double
        public var recordsPerSecond: Double
        public var reportMilliseconds: [Double]
        public var reachSeconds: [Double]

        /// A plain-text report.
        public var report: String {
            let reach = reachSeconds.sorted()
            let reports = reportMilliseconds.sorted()
            let ratio: Double = tokensWhileReporting / max(tokensAlone, 1)
            let alone: String = Self.number(tokensAlone, "%.0f")
            let during: String = Self.number(tokensWhileReporting, "%.0f")
            let times: String = Self.number(ratio, "%.2f")
            let records: String = Self.number(recordsPerSecond, "%.0f")
            let reportMedian: String = Self.number(Self.percentile(reports, 50), "%.1f")
            let reportP99: String = Self.number(Self.percentile(reports, 99), "%.1f")
            let reachMedian: String = Self.number(Self.percentile(reach, 50), "%.2f")
            let reachP99: String = Self.number(Self.percentile(reach, 99), "%.2f")
            let reachMax: String = Self.number(reach.last ?? .nan, "%.2f")
            var lines: [String] = []
            lines.append("token issuance alone:                 \(alone) tokens/s")
            lines.append("token issuance while reports arrive:  \(during) tokens/s (\(times)× alone)")
            lines.append("usage records taken in meanwhile:     \(records) records/s (target ≥ 50000)")
            lines.append(
                "reports sent: \(reports.count), each answered in median \(reportMedian) ms, p99 \(reportP99) ms"
            )
            lines.append(
                "crossing request → refusal at the resource server, \(reach.count) probers, 1 s reports: "
                    + "median \(reachMedian) s, p99 \(reachP99) s, max \(reachMax) s (target p99 ≤ 2 s)"
            )
            return lines.joined(separator: "\n")
        }

        static func number(_ value: Double, _ format: String) -> String { String(format: format, value) }

        /// The nearest-rank percentile of sorted values.
        static func percentile(_ sorted: [Double], _ percent: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let rank = max(1, Int((percent / 100 * Double(sorted.count)).rounded(.up)))
            return sorted[min(rank, sorted.count) - 1]
        }
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Runs it.
    public func run() async throws -> Result {
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            var result = try await throughput(http)
            result.reachSeconds = try await reach(http)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    // MARK: - Throughput

    private func throughput(_ http: HTTPClient) async throws -> Result {
        let broker = BenchmarkBroker(base: self.broker, http: http)
        let generator = try assertion(Self.loadGenerator)
        var tasks: [String] = []
        for _ in 0..<100 { tasks.append(try await broker.taskWithToken(generator).task) }
        let body = report(tasks: tasks)
        let alone = try await issue(broker, generator, reporting: nil)
        let server = try assertion(Self.resourceServer)
        let during = try await issue(broker, generator, reporting: (body, server))
        return Result(
            tokensAlone: alone.tokens,
            tokensWhileReporting: during.tokens,
            recordsPerSecond: during.records,
            reportMilliseconds: during.reportMilliseconds,
            reachSeconds: []
        )
    }

    /// A report of `recordsPerReport` records about `tasks`: reads of many fixtures, now and then a refusal.
    private func report(tasks: [String]) -> ByteBuffer {
        let now = Int64(Date().timeIntervalSince1970)
        var records: [UsageRecord] = []
        records.reserveCapacity(recordsPerReport)
        for index in 0..<recordsPerReport {
            let task: String = tasks[index % tasks.count]
            let set: Int = index % 7
            let item: Int = index % 97
            let refused: Bool = index % 50 == 0
            let count: Int = 1 + index % 3
            let record = UsageRecord(
                task: task,
                token: "tok-" + task,
                workload: Self.loadGenerator,
                action: "read",
                resourceType: "fixture",
                identifier: "fixtures/set-\(set)/item-\(item)",
                outcome: refused ? "insufficient_authorization" : UsageRecord.allowed,
                count: count,
                first: now,
                last: now
            )
            records.append(record)
        }
        return ByteBuffer(bytes: UsageReport(audience: Self.audience, records: records).bytes)
    }

    /// What one phase counted.
    final class Counts: Sendable {
        let state = Mutex<(tokens: Int, records: Int, milliseconds: [Double])>((0, 0, []))
    }

    private struct Phase {
        var tokens: Double
        var records: Double
        var reportMilliseconds: [Double]
    }

    /// Issues tokens with two issuers for `seconds`; with `reporting`, reporters post reports meanwhile.
    private func issue(
        _ broker: BenchmarkBroker,
        _ generator: String,
        reporting: (body: ByteBuffer, credential: String)?
    ) async throws -> Phase {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let started = ContinuousClock.now
        let counts = Counts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    while ContinuousClock.now < end {
                        _ = try await broker.taskWithToken(generator)
                        counts.state.withLock { $0.tokens += 1 }
                    }
                }
            }
            if let reporting {
                for _ in 0..<reporters {
                    group.addTask {
                        // Each reporter's share of the aimed rate, as a pause between reports.
                        let share: Double = Double(max(recordsPerSecond, 1)) / Double(reporters)
                        let pause: Duration = .milliseconds(Int(Double(recordsPerReport) / share * 1000))
                        var next = ContinuousClock.now
                        while ContinuousClock.now < end {
                            if recordsPerSecond > 0 {
                                try await Task.sleep(until: next, clock: .continuous)
                                next = next + pause
                            }
                            let sent = ContinuousClock.now
                            let accepted = try await post(broker.http, reporting.body, reporting.credential)
                            let milliseconds: Double = Self.seconds(ContinuousClock.now - sent) * 1000
                            counts.state.withLock { state in
                                state.records += accepted
                                state.milliseconds.append(milliseconds)
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds: Double = Self.seconds(ContinuousClock.now - started)
        let totals = counts.state.withLock { $0 }
        return Phase(
            tokens: Double(totals.tokens) / seconds,
            records: Double(totals.records) / seconds,
            reportMilliseconds: totals.milliseconds
        )
    }

    private func post(_ http: HTTPClient, _ body: ByteBuffer, _ credential: String) async throws -> Int {
        var request = HTTPClientRequest(url: broker + "/v1/usage")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let response = try await http.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw Failed(description: "/v1/usage answered \(response.status.code): \(String(buffer: answer))")
        }
        return Int(try UsageReportResponse(responseBody: Array(buffer: answer)).accepted)
    }

    // MARK: - Reach

    private func reach(_ http: HTTPClient) async throws -> [Double] {
        let keys = RemoteKeySet(source: HTTPJWKSSource(url: broker + "/.well-known/jwks.json", client: http))
        try await keys.refresh()
        let view = InMemoryRevocationView(maximumStaleness: 30)
        let server: String = try assertion(Self.resourceServer)
        var feedConfiguration = RevocationFeedClient.Configuration(broker: broker)
        feedConfiguration.credential = FeedCredential.token(server)
        let feed = RevocationFeedClient(configuration: feedConfiguration, view: view, client: http)
        let recorder = UsageRecorder(audience: Self.audience)
        let reporter = UsageReporter(
            configuration: UsageReporter.Configuration(broker: broker, credential: FeedCredential.token(server)),
            recorder: recorder,
            client: http
        )
        let verifier = TokenVerifier(
            configuration: TokenVerifier.Configuration(issuer: broker, audience: Self.audience, cacheCapacity: 0),
            keys: keys,
            revocations: view,
            usage: recorder
        )
        let following: Task<Void, any Error> = Task { try await feed.run() }
        let reporting: Task<Void, any Error> = Task { try await reporter.run() }
        defer {
            following.cancel()
            reporting.cancel()
        }
        try await feed.catchUp()
        let client = BenchmarkBroker(base: broker, http: http)
        var reach: [Double] = []
        let run: String = String(UUID().uuidString.prefix(8)).lowercased()
        for trial in 0..<trials {
            let prober: String = try assertion("spiffe://example.org/bench/prober-\(run)-\(trial)")
            let token: String = try await client.taskWithToken(prober).token
            reach.append(try await Self.timeToRefusal(verifier, token: token))
        }
        return reach
    }

    /// Six refusals at a random moment of the report interval, then the seconds until the token's valid request
    /// is refused as revoked.
    private static func timeToRefusal(_ verifier: TokenVerifier, token: String) async throws -> Double {
        let presentation = Presentation(authorization: "Bearer " + token)
        let fixture = Resource(type: "fixture", identifier: "fixtures/one")
        _ = try verifier.verify(presentation, allowing: "read", on: fixture)
        let pause: Int = Int.random(in: 0..<1000)
        try await Task.sleep(for: .milliseconds(pause))
        for _ in 0..<6 { _ = try? verifier.verify(presentation, allowing: "write", on: fixture) }
        let crossed = ContinuousClock.now
        while ContinuousClock.now - crossed < .seconds(30) {
            if !Self.accepts(verifier, presentation, fixture) { return seconds(ContinuousClock.now - crossed) }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw Failed(description: "a prober was not refused within 30 s")
    }

    private static func accepts(_ verifier: TokenVerifier, _ presentation: Presentation, _ fixture: Resource) -> Bool {
        do {
            _ = try verifier.verify(presentation, allowing: "read", on: fixture)
            return true
        } catch {
            return error.code != .revoked
        }
    }
}
