import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WritToken
import WritVerifier

/// How long after a task's completion is acknowledged a verifier that polls the broker's Token Status List
/// refuses the task's token. `tasks` tasks of the benchmark policy's load generator each get a bearer token;
/// one ``StatusListRevocations`` (as a resource server runs it) follows the list; the tasks complete at random
/// moments spread over two `ttl`s, and for each the time from the broker's acknowledgement to the view refusing
/// the token is recorded.
public struct StatusListReachBenchmark: Sendable {
    /// The broker's base URL (its issuer).
    public let broker: String
    /// `spiffe://example.org/bench/load-generator`'s assertion.
    public let workloadAssertion: String
    /// Tasks measured.
    public let tasks: Int

    /// A benchmark.
    public init(broker: String, workloadAssertion: String, tasks: Int) {
        self.broker = broker
        self.workloadAssertion = workloadAssertion
        self.tasks = tasks
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs it and returns the report.
    public func run() async throws -> String {
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let report = try await measure(http)
            try await http.shutdown()
            return report
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func measure(_ http: HTTPClient) async throws -> String {
        let keys = RemoteKeySet(source: HTTPJWKSSource(url: broker + "/.well-known/jwks.json", client: http))
        try await keys.refresh()
        var configuration = StatusListRevocations.Configuration(issuer: broker)
        configuration.tick = .milliseconds(20)
        let view = StatusListRevocations(
            configuration: configuration,
            keys: keys,
            fetch: StatusListRevocations.http(client: http)
        )
        let broker = BenchmarkBroker(base: self.broker, http: http)
        var issued: [(task: String, claims: AccessTokenClaims)] = []
        for _ in 0..<tasks {
            let (task, token) = try await broker.taskWithToken(workloadAssertion)
            issued.append((task, try AccessToken.unverifiedClaims(token)))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await view.run() }
            defer { group.cancelAll() }
            // Every token's list fetched and vouching before the clock starts.
            let ready = ContinuousClock.now
            while issued.contains(where: { view.status(of: $0.claims, now: Date()) != .notRevoked }) {
                guard ContinuousClock.now - ready < .seconds(30) else {
                    throw Failed(description: "the list never came")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let ttl = try await timeToLive(http, issued[0].claims)
            let reach = try await withThrowingTaskGroup(of: Double.self) { rounds in
                for (task, claims) in issued {
                    rounds.addTask {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...(ttl * 2000))))
                        _ = try await broker.send("/v1/tasks/\(task)/complete", bearer: workloadAssertion)
                        let acknowledged = ContinuousClock.now
                        while true {
                            if case .revoked = view.status(of: claims, now: Date()) {
                                return Self.milliseconds(ContinuousClock.now - acknowledged)
                            }
                            guard ContinuousClock.now - acknowledged < .seconds(ttl * 4 + 10) else {
                                throw Failed(description: "a completed task's token was never refused")
                            }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                var all: [Double] = []
                for try await value in rounds { all.append(value) }
                return all.sorted()
            }
            func at(_ fraction: Double) -> Double { reach[min(reach.count - 1, Int(Double(reach.count) * fraction))] }
            return """
                a polling verifier (StatusListRevocations), ttl \(ttl) s, \(tasks) tasks completed at random over \
                \(ttl * 2) s
                acknowledgement -> refusal:  p50 \(Self.format(at(0.5))) ms   p99 \(Self.format(at(0.99))) ms   \
                max \(Self.format(reach.last ?? 0)) ms   (target p99 <= ttl + 1 s = \((ttl + 1) * 1000) ms)
                """
        }
    }

    private func timeToLive(_ http: HTTPClient, _ claims: AccessTokenClaims) async throws -> Int {
        guard let uri = claims.status?.uri else { throw Failed(description: "the token names no status list") }
        let answer = try await http.execute(HTTPClientRequest(url: uri), timeout: .seconds(10))
        let body = try await answer.body.collect(upTo: 1 << 22)
        let jws = try CompactJWS(String(buffer: body), maximumLength: 1 << 22)
        guard let ttl = try jws.payload().objectValue?["ttl"]?.integerValue else {
            throw Failed(description: "the list has no ttl")
        }
        return Int(ttl)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func format(_ value: Double) -> String { String(format: "%.0f", value) }
}
