import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import WritToken

/// Load against a running broker: token requests for open tasks, full task cycles (create, one token,
/// complete), or operator revocations, from N concurrent clients on keep-alive connections, each client
/// waiting for its answer before sending again. Latency is from send to complete response, recorded in an
/// HdrHistogram; every request must succeed, so the figures are for acknowledged (durable) work.
public struct IssueBenchmark: Sendable {
    /// What each client does in a loop.
    public enum Workload: String, Sendable, CaseIterable {
        /// `POST /v1/token` for the client's own open task, with a fresh DPoP proof each time.
        case tokens
        /// Create a task, get one token for it, complete it.
        case cycles
        /// `POST /v1/admin/revocations` (a user revocation each time).
        case revocations
    }

    /// How tokens are bound.
    public enum Binding: String, Sendable, CaseIterable {
        /// Bearer tokens (the load generator's policy allows them).
        case bearer
        /// DPoP-bound tokens: each token request carries a fresh proof made with the client's key.
        case dpop
        /// Certificate-bound tokens: the workload is an X.509-SVID over mutual TLS (RFC 8705).
        case mtls
        /// Over mutual TLS with a DPoP proof on each token request (the token is bound to the proof key).
        case mtlsDPoP = "mtls+dpop"

        /// Whether requests go over mutual TLS.
        var overTLS: Bool { self == .mtls || self == .mtlsDPoP }
        /// Whether token requests carry DPoP proofs.
        var proofs: Bool { self == .dpop || self == .mtlsDPoP }
    }

    /// What a client presents over mutual TLS: its SVID, key and the CA to trust.
    public struct MutualTLSIdentity: Sendable {
        /// The broker's mutual-TLS base URL.
        public var broker: String
        /// The SVID (PEM).
        public var certificatePEM: String
        /// Its key (PEM).
        public var keyPEM: String
        /// The CA that signed the broker's certificate (PEM).
        public var trustPEM: String

        /// An identity.
        public init(broker: String, certificatePEM: String, keyPEM: String, trustPEM: String) {
            self.broker = broker
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
            self.trustPEM = trustPEM
        }
    }

    /// The broker's base URL (its issuer).
    public let broker: String
    /// The binding measured.
    public let binding: Binding
    /// A workload assertion: `spiffe://example.org/bench/load-generator` for bearer tokens,
    /// `spiffe://example.org/agents/coding-agent` for DPoP.
    public let workloadAssertion: String
    /// An admin operator token.
    public let operatorToken: String
    /// The SVID for the mutual-TLS bindings.
    public let mutualTLS: MutualTLSIdentity?
    /// Seconds per measurement.
    public let seconds: Double
    /// Seconds of warm-up before each.
    public let warmup: Double
    /// Whether DPoP proofs are made before each measurement starts (see ``measure``).
    public var presignedProofs = false

    /// A benchmark.
    public init(
        broker: String,
        binding: Binding,
        workloadAssertion: String,
        operatorToken: String,
        mutualTLS: MutualTLSIdentity? = nil,
        seconds: Double,
        warmup: Double
    ) {
        self.mutualTLS = mutualTLS
        self.broker = broker
        self.binding = binding
        self.workloadAssertion = workloadAssertion
        self.operatorToken = operatorToken
        self.seconds = seconds
        self.warmup = warmup
    }

    /// One measurement's outcome.
    public struct Result: Sendable {
        /// What ran.
        public let workload: Workload
        /// How tokens were bound.
        public let binding: Binding
        /// Concurrent clients.
        public let clients: Int
        /// Completed operations (a cycle counts once).
        public let operations: Int
        /// Operations that failed.
        public let failures: Int
        /// Elapsed seconds.
        public let seconds: Double
        /// Latency percentiles in microseconds: p50, p90, p99, p99.9, max.
        public let latency: [UInt64]

        /// Operations a second.
        public var rate: Double { Double(operations) / seconds }

        /// One table row.
        public var row: String {
            func column(_ text: String, _ width: Int) -> String {
                text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
            }
            func ms(_ microseconds: UInt64) -> String { String(format: "%.2f", Double(microseconds) / 1000) }
            let name = workload.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            let bound = (workload == .revocations ? "-" : binding.rawValue).padding(
                toLength: 7,
                withPad: " ",
                startingAt: 0
            )
            return name + " " + bound + column(String(clients), 9) + column(String(format: "%.0f", rate), 11)
                + latency.map { column(ms($0), 10) }.joined() + column(String(failures), 9)
        }

        /// The table header.
        public static let header =
            "workload     binding  clients      ops/s  p50 (ms)  p90 (ms)  p99 (ms) p99.9 (ms)  max (ms) failures"
    }

    /// The task each binding's workload begins, and the audience of its tokens.
    var task: (body: String, audience: String) {
        switch binding {
        case .bearer:
            return (
                """
                {"type":"load-test","bearer":true,"authorization_details":[{"type":"fixture","locations":\
                ["https://bench.example.org"],"identifier":"fixtures/one","actions":["read"]}]}
                """,
                "https%3A%2F%2Fbench.example.org"
            )
        case .dpop, .mtls, .mtlsDPoP:
            return (
                """
                {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
                ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
                """,
                "https%3A%2F%2Fgit.example.org"
            )
        }
    }

    /// Runs one workload at one concurrency.
    public func run(_ workload: Workload, clients: Int) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
        configuration.timeout.read = .seconds(30)
        if binding.overTLS {
            guard let mutualTLS else { throw Session.Failed() }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(mutualTLS.certificatePEM.utf8)).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(mutualTLS.keyPEM.utf8), format: .pem))
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(mutualTLS.trustPEM.utf8)))
            configuration.tlsConfiguration = tls
        }
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
        defer { _ = http.shutdown() }
        let session = Session(benchmark: self, http: http)
        var tasks: [String] = []
        if workload == .tokens {
            for _ in 0..<clients { tasks.append(try await session.createTask()) }
        }
        let prepared = tasks
        if warmup > 0 {
            _ = try await measure(workload, clients: clients, seconds: warmup, tasks: prepared, session: session)
        }
        let result = try await measure(workload, clients: clients, seconds: seconds, tasks: prepared, session: session)
        for task in prepared { _ = try? await session.complete(task) }
        return result
    }

    private func measure(
        _ workload: Workload,
        clients: Int,
        seconds: Double,
        tasks: [String],
        session: Session
    ) async throws -> Result {
        // One proof key per client, as an agent has one per task. With `presignedProofs`, each client's
        // proofs for the whole run are made before the clock starts, so the load generator's own signing
        // does not take CPU from the broker on a shared machine.
        let keys = (0..<clients).map { _ in PrivateKey.generate(.es256) }
        var presigned = [[String]](repeating: [], count: clients)
        if presignedProofs, binding.proofs, workload == .tokens {
            let perClient = Int(seconds * 200) + 20
            let url = session.base + "/v1/token"
            for client in 0..<clients {
                let key = keys[client]
                presigned[client] = try (0..<perClient).map { _ in
                    try DPoPProof.create(method: "POST", url: url, key: key, issuedAt: Date())
                }
            }
        }
        let proofs = presigned
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let outcomes = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int, Int).self) { group in
            for client in 0..<clients {
                group.addTask {
                    var ready = proofs[client]
                    var histogram = Histogram<UInt64>(
                        highestTrackableValue: 60_000_000,
                        numberOfSignificantValueDigits: .three
                    )
                    var operations = 0
                    var failures = 0
                    let key = keys[client]
                    while clock.now < deadline {
                        let began = clock.now
                        let succeeded: Bool
                        switch workload {
                        case .tokens:
                            let proof = ready.popLast()
                            succeeded = (try? await session.token(for: tasks[client], key: key, proof: proof)) != nil
                        case .cycles: succeeded = (try? await session.cycle(key: key)) != nil
                        case .revocations:
                            succeeded = (try? await session.revoke(client: client, index: operations)) != nil
                        }
                        let elapsed = began.duration(to: clock.now)
                        if succeeded {
                            operations += 1
                            let micros =
                                elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds
                                / 1_000_000_000_000
                            _ = histogram.record(UInt64(max(micros, 1)))
                        } else {
                            failures += 1
                        }
                    }
                    return (histogram, operations, failures)
                }
            }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            var operations = 0
            var failures = 0
            for try await (histogram, count, failed) in group {
                merged.add(histogram)
                operations += count
                failures += failed
            }
            return (merged, operations, failures)
        }
        let elapsed = start.duration(to: clock.now)
        let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let histogram = outcomes.0
        return Result(
            workload: workload,
            binding: binding,
            clients: clients,
            operations: outcomes.1,
            failures: outcomes.2,
            seconds: total,
            latency: [50, 90, 99, 99.9].map { histogram.valueAtPercentile($0) } + [histogram.max]
        )
    }

    /// The requests, over one client.
    struct Session: Sendable {
        let benchmark: IssueBenchmark
        let http: HTTPClient

        struct Failed: Error {}

        /// The base URL requests go to.
        var base: String { benchmark.binding.overTLS ? benchmark.mutualTLS?.broker ?? "" : benchmark.broker }

        func send(
            _ path: String,
            bearer: String?,
            json: String? = nil,
            form: String? = nil,
            dpop: String? = nil
        )
            async throws -> ByteBuffer
        {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
            if let dpop { request.headers.add(name: "DPoP", value: dpop) }
            if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
            } else if let form {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form))
            }
            let response = try await http.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else { throw Failed() }
            return body
        }

        func createTask() async throws -> String {
            let body = try await send("/v1/tasks", bearer: workload, json: benchmark.task.body)
            guard let id = try StrictJSON().parse(String(buffer: body)).objectValue?["id"]?.stringValue else {
                throw Failed()
            }
            return id
        }

        /// The workload's bearer assertion; none over mutual TLS, where the SVID is the identity.
        var workload: String? { benchmark.binding.overTLS ? nil : benchmark.workloadAssertion }

        func token(for task: String, key: PrivateKey, proof presigned: String? = nil) async throws -> ByteBuffer {
            let proof: String? =
                benchmark.binding.proofs
                ? try presigned ?? DPoPProof.create(method: "POST", url: base + "/v1/token", key: key, issuedAt: Date())
                : nil
            var form =
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
                + "&audience=\(benchmark.task.audience)&task_id=\(task)"
            if let workload {
                form += "&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&actor_token=\(workload)"
            }
            return try await send("/v1/token", bearer: nil, form: form, dpop: proof)
        }

        func complete(_ task: String) async throws -> ByteBuffer {
            try await send("/v1/tasks/\(task)/complete", bearer: workload)
        }

        func cycle(key: PrivateKey) async throws -> ByteBuffer {
            let task = try await createTask()
            _ = try await token(for: task, key: key)
            return try await complete(task)
        }

        func revoke(client: Int, index: Int) async throws -> ByteBuffer {
            try await send(
                "/v1/admin/revocations",
                bearer: benchmark.operatorToken,
                json: "{\"kind\":\"user\",\"id\":\"bench-\(client)-\(index)\"}"
            )
        }
    }
}
