import AsyncHTTPClient
import Foundation
import Histogram
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WritToken
import WritVerifier

/// How fast a revocation reaches every verifier following the broker's feed, and what following the feed
/// costs verification. `verifiers` `RevocationFeedClient`s (each its own view and stream) follow one running
/// broker; each round an operator revocation is made, and the time from the broker's acknowledgement to the
/// moment each view refuses a covered token is recorded. Verification throughput is measured with the feed
/// idle and again while revocations stream in, interleaved, same process.
public struct RevocationBenchmark: Sendable {
    /// The brokers' base URLs: revocations are made at the first; verifiers follow each in turn.
    public let brokers: [String]
    /// The broker revocations are made at.
    var broker: String { brokers[0] }
    /// An admin operator token.
    public let operatorToken: String
    /// Verifiers following the feed.
    public let verifiers: Int
    /// Revocations measured.
    public let rounds: Int
    /// Seconds per throughput measurement.
    public let seconds: Double
    /// Immediate key rotations measured.
    public let keyRounds: Int

    /// A benchmark.
    public init(
        brokers: [String],
        operatorToken: String,
        verifiers: Int,
        rounds: Int,
        seconds: Double,
        keyRounds: Int = 20
    ) {
        self.brokers = brokers
        self.operatorToken = operatorToken
        self.verifiers = verifiers
        self.rounds = rounds
        self.seconds = seconds
        self.keyRounds = keyRounds
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the benchmark and returns its report.
    public func run() async throws -> String {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = verifiers + 16
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        var quiet = Logger(label: "writ.bench.feed")
        quiet.logLevel = .critical
        let views = (0..<verifiers).map { _ in InMemoryRevocationView(maximumStaleness: 30) }
        let feedConfigurations = brokers.map { broker in
            var configuration = RevocationFeedClient.Configuration(broker: broker)
            configuration.credential = .token(operatorToken)
            return configuration
        }
        let feedConfiguration = feedConfigurations[0]
        // Verifier i follows broker i modulo the number of brokers.
        let followers = views.indices.map { index in
            RevocationFeedClient(
                configuration: feedConfigurations[index % brokers.count],
                view: views[index],
                client: http,
                logger: quiet
            )
        }
        do {
            let report = try await withThrowingTaskGroup(of: String?.self) { group in
                for follower in followers {
                    group.addTask {
                        try await follower.run()
                        return nil
                    }
                }
                group.addTask { try await measure(views: views, http: http) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let report = next { return report }
                }
                throw Failed(description: "the measurement did not finish")
            }
            // Throughput: one resource server's verifier with its own follower, as in production.
            let view = InMemoryRevocationView(maximumStaleness: 30)
            let follower = RevocationFeedClient(
                configuration: feedConfiguration,
                view: view,
                client: http,
                logger: quiet
            )
            let throughput = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await follower.run()
                    return nil
                }
                group.addTask {
                    while Self.isStale(view) { try await Task.sleep(for: .milliseconds(20)) }
                    return try await throughputWithFeed(view: view, http: http)
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let report = next { return report }
                }
                throw Failed(description: "the measurement did not finish")
            }
            try await http.shutdown()
            return report + "\n" + throughput
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func measure(views: [InMemoryRevocationView], http: HTTPClient) async throws -> String {
        let clock = ContinuousClock()
        let now = { Date() }
        // Every view synced: a probe token is judged, not refused as stale.
        let ready = clock.now + .seconds(30)
        while views.contains(where: { Self.isStale($0) }) {
            guard clock.now < ready else { throw Failed(description: "the verifiers did not sync within 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        // The same, for verifiers following a broker other than the one that acknowledged.
        var elsewhere = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var slowest: [UInt64] = []
        for round in 0..<rounds {
            let user = "bench-revocation-\(UUID().uuidString.prefix(8))-\(round)"
            let probe = Self.claims(user: user, now: now())
            var request = HTTPClientRequest(url: broker + "/v1/admin/revocations")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: "{\"kind\":\"user\",\"id\":\"\(user)\"}"))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created else {
                throw Failed(description: "revocation answered \(response.status)")
            }
            let acknowledged = clock.now
            var pending = Set(views.indices)
            var worst: UInt64 = 0
            while !pending.isEmpty {
                for index in pending {
                    if case .revoked = views[index].status(of: probe, now: now()) {
                        let elapsed = acknowledged.duration(to: clock.now)
                        let micros = UInt64(
                            max(
                                elapsed.components.attoseconds / 1_000_000_000_000 + elapsed.components.seconds
                                    * 1_000_000,
                                1
                            )
                        )
                        _ = latency.record(micros)
                        if index % brokers.count != 0 { _ = elsewhere.record(micros) }
                        worst = max(worst, micros)
                        pending.remove(index)
                    }
                }
                guard acknowledged.duration(to: clock.now) < .seconds(10) else {
                    throw Failed(description: "\(pending.count) verifiers never saw revocation \(round)")
                }
                await Task.yield()
            }
            slowest.append(worst)
            try await Task.sleep(for: .milliseconds(20))
        }
        func ms(_ micros: UInt64) -> String { String(format: "%.2f", Double(micros) / 1000) }
        let sortedWorst = slowest.sorted()
        let keys = try await measureKeyRetirement(views: views, http: http)
        func summary(_ histogram: Histogram<UInt64>) -> String {
            "p50 \(ms(histogram.valueAtPercentile(50))) ms, p90 \(ms(histogram.valueAtPercentile(90))) ms, "
                + "p99 \(ms(histogram.valueAtPercentile(99))) ms, max \(ms(histogram.max)) ms"
        }
        let following =
            brokers.count == 1
            ? "following \(broker)" : "spread over \(brokers.count) brokers (revocations made at \(broker))"
        let crossBroker =
            brokers.count == 1
            ? ""
            : """

                verifiers following another broker (\(elsewhere.totalCount) samples): \(summary(elsewhere))
            """
        return """
            revocation reach: \(verifiers) verifiers \(following), \(rounds) revocations
              from the broker's acknowledgement to each verifier refusing (\(latency.totalCount) samples):
                \(summary(latency))\(crossBroker)
              the last verifier of each revocation: median \(ms(sortedWorst[sortedWorst.count / 2])) ms, \
            worst \(ms(sortedWorst.last ?? 0)) ms
            key retirement reach: \(keyRounds) immediate rotations (`writ keys rotate --immediately`)
              from the broker's acknowledgement to each verifier refusing the retired key (\(keys.totalCount) samples):
                p50 \(ms(keys.valueAtPercentile(50))) ms, p90 \(ms(keys.valueAtPercentile(90))) ms, \
            p99 \(ms(keys.valueAtPercentile(99))) ms, max \(ms(keys.max)) ms
            """
    }

    /// Immediate rotations: the time from the broker's acknowledgement to each view knowing the replaced key
    /// is retired (a verifier using the view then refuses every token that key signed).
    private func measureKeyRetirement(
        views: [InMemoryRevocationView],
        http: HTTPClient
    ) async throws -> Histogram<UInt64> {
        let clock = ContinuousClock()
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for round in 0..<keyRounds {
            var request = HTTPClientRequest(url: broker + "/v1/admin/keys/rotate?immediately=true")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created,
                let reply = try? StrictJSON().parse(bytes: Array(buffer: body)),
                let previous = reply.objectValue?["previous_kid"]?.stringValue
            else { throw Failed(description: "an immediate rotation answered \(response.status)") }
            let acknowledged = clock.now
            var pending = Set(views.indices)
            while !pending.isEmpty {
                for index in pending where views[index].retirement(ofKey: previous) != nil {
                    let elapsed = acknowledged.duration(to: clock.now)
                    let micros =
                        elapsed.components.attoseconds / 1_000_000_000_000 + elapsed.components.seconds
                        * 1_000_000
                    _ = latency.record(UInt64(max(micros, 1)))
                    pending.remove(index)
                }
                guard acknowledged.duration(to: clock.now) < .seconds(10) else {
                    throw Failed(description: "\(pending.count) verifiers never saw key retirement \(round)")
                }
                await Task.yield()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return latency
    }

    /// Verification on one core with the feed idle, then while revocations stream in, interleaved rounds.
    private func throughputWithFeed(view: InMemoryRevocationView, http: HTTPClient) async throws -> String {
        let key = SigningKey.generate()
        let verifier = TokenVerifier(
            configuration: {
                var configuration = TokenVerifier.Configuration(issuer: "https://bench.invalid", audience: "https://rs")
                configuration.cacheCapacity = 0
                configuration.acceptsBearerTokens = true
                return configuration
            }(),
            keys: try StaticKeySet([key.verificationKey]),
            revocations: view
        )
        let token = try AccessToken.sign(
            Self.claims(user: "nobody", now: Date(), issuer: "https://bench.invalid"),
            with: key
        )
        let presentation = Presentation(authorization: "Bearer \(token)")
        var idle = Series(name: "idle")
        var live = Series(name: "live")
        for _ in 0..<3 {
            idle.rates.append(timedLoop(seconds: seconds) { (try? verifier.verify(presentation)) != nil }.rate)
            let feeding = Task {
                // Revocations at about 50/s while verifying: the view applies them as they stream in.
                while !Task.isCancelled {
                    var request = HTTPClientRequest(url: broker + "/v1/admin/revocations")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(
                        ByteBuffer(string: "{\"kind\":\"user\",\"id\":\"bench-\(UUID().uuidString)\"}")
                    )
                    _ = try? await http.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 20)
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            live.rates.append(timedLoop(seconds: seconds) { (try? verifier.verify(presentation)) != nil }.rate)
            feeding.cancel()
            _ = await feeding.value
        }
        return String(
            format:
                "verification on one core, one verifier following the feed (median of 3 interleaved rounds): "
                + "feed idle %.0f/s, feed live (about 50 revocations/s) %.0f/s (%.1f%%)",
            idle.median,
            live.median,
            100 * live.median / idle.median
        )
    }

    static func isStale(_ view: InMemoryRevocationView) -> Bool {
        if case .stale = view.status(of: claims(user: "probe", now: Date()), now: Date()) { return true }
        return false
    }

    static let workload: SPIFFEID = {
        do {
            return try SPIFFEID(trustDomain: "example.org", path: "/bench/verifier")
        } catch {
            preconditionFailure("a constant SPIFFE ID is valid")
        }
    }()

    static func claims(user: String, now: Date, issuer: String = "https://bench.invalid") -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: issuer,
            subject: user,
            audience: "https://rs",
            expiresAt: now.addingTimeInterval(300),
            issuedAt: now.addingTimeInterval(-5),
            clientID: workload,
            taskID: "tsk_bench",
            authorizationDetails: []
        )
    }
}
