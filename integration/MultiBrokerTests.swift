import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import WritBroker
import WritTestSupport
import WritToken

/// Several `writ serve` processes on one PostgreSQL database, as behind a load balancer: one issuer URL, one
/// state directory on shared storage (keys, development identities), any request to any broker.
@Suite("Several brokers on one PostgreSQL", .serialized, .timeLimit(.minutes(3)))
struct MultiBrokerTests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let body = """
        {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
        ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """

    @Test(
        """
        a task made at one broker gets its token at another; a proof spent at one is refused at the other; \
        the task's completion at one reaches the other's stream subscribers at once, not at its next tick
        """
    )
    func twoBrokersOneTruth() async throws {
        let server = try await PostgreSQLServer.shared()
        let url = server.url(database: try await server.createDatabase())
        let first = try BrokerProcess()
        defer { first.remove() }
        let second = try BrokerProcess()
        defer { second.remove() }
        let shared = [
            "WRIT_DATABASE_URL": url, "WRIT_ISSUER": first.baseURL,
            "WRIT_STATE_DIR": first.stateDirectory.appendingPathComponent("state").path,
        ]
        try await first.start(environment: shared)
        // A tick a minute long: only the database's notification can bring the first broker's entries here soon.
        try await second.start(
            environment: shared,
            configuration: "development: true\nmaintenance:\n  tick_seconds: 60\n"
        )
        let a = BrokerClient(baseURL: first.baseURL)
        let b = BrokerClient(baseURL: second.baseURL)
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        do {
            try await Self.story(first: first, a: a, b: b, http: http)
        } catch {
            await a.shutdown()
            await b.shutdown()
            try? await http.shutdown()
            throw error
        }
        await a.shutdown()
        await b.shutdown()
        try await http.shutdown()
        _ = try await second.stop()
        _ = try await first.stop()
    }

    @Test("an immediate rotation at one broker: the other signs with the new key and publishes the same keys")
    func rotationReachesEveryBroker() async throws {
        let server = try await PostgreSQLServer.shared()
        let url = server.url(database: try await server.createDatabase())
        let brokers = [try BrokerProcess(), try BrokerProcess()]
        defer { for broker in brokers { broker.remove() } }
        let shared = [
            "WRIT_DATABASE_URL": url, "WRIT_ISSUER": brokers[0].baseURL,
            "WRIT_STATE_DIR": brokers[0].stateDirectory.appendingPathComponent("state").path,
        ]
        for broker in brokers { try await broker.start(environment: shared) }
        let a = BrokerClient(baseURL: brokers[0].baseURL)
        let b = BrokerClient(baseURL: brokers[1].baseURL)
        @Sendable func kids(_ client: BrokerClient) async throws -> Set<String> {
            let keys = try await client.send(.GET, "/.well-known/jwks.json").body.objectValue?["keys"]?.arrayValue ?? []
            return Set(keys.compactMap { $0.objectValue?["kid"]?.stringValue })
        }
        do {
            #expect(try await kids(a) == kids(b))
            let rotated = try await a.send(
                .POST,
                "/v1/admin/keys/rotate?immediately=true",
                bearer: try brokers[0].operatorToken()
            )
            let active = try #require(rotated.body.objectValue?["kid"]?.stringValue, "\(rotated.body)")
            // Within a maintenance tick the other broker reads the records and signs with the new key.
            let assertion = try brokers[0].workloadAssertion(Self.coder)
            let signsWithNew = try await EndToEndTests.eventually {
                let task = try await b.send(
                    .POST,
                    "/v1/tasks",
                    bearer: assertion,
                    json: """
                        {"type":"implement-change","authorization_details":[{"type":"repository",\
                        "locations":["https://git.example.org"],"identifier":"example-org/writ-demo",\
                        "actions":["read"]}]}
                        """
                )
                guard let id = task.body.objectValue?["id"]?.stringValue else { return false }
                // Every broker names the cluster's one token endpoint (the shared issuer's) in DPoP proofs.
                let proof = try DPoPProof.create(
                    method: "POST",
                    url: brokers[0].baseURL + "/v1/token",
                    key: .generate(.es256),
                    issuedAt: Date()
                )
                let issued = try await Self.tokenRequest(b, task: id, actor: assertion, proof: proof)
                guard let token = issued.body.objectValue?["access_token"]?.stringValue,
                    let header = token.split(separator: ".").first,
                    let bytes = Base64URL.decode(String(header)),
                    let kid = (try? StrictJSON().parse(bytes: bytes))?.objectValue?["kid"]?.stringValue
                else { return false }
                return kid == active
            }
            #expect(signsWithNew, "the other broker still signs with the old key")
            #expect(try await kids(a) == kids(b), "the brokers publish different keys")
            #expect(try await kids(b).contains(active))
        } catch {
            await a.shutdown()
            await b.shutdown()
            throw error
        }
        await a.shutdown()
        await b.shutdown()
        for broker in brokers { _ = try await broker.stop() }
    }

    @Test("one of three brokers does the background work; when it is killed another takes over and expires a due task")
    func leaderTakeover() async throws {
        let server = try await PostgreSQLServer.shared()
        let url = server.url(database: try await server.createDatabase())
        let brokers = [try BrokerProcess(), try BrokerProcess(), try BrokerProcess()]
        defer { for broker in brokers { broker.remove() } }
        let shared = [
            "WRIT_DATABASE_URL": url, "WRIT_ISSUER": brokers[0].baseURL, "WRIT_LOG_LEVEL": "notice",
            "WRIT_STATE_DIR": brokers[0].stateDirectory.appendingPathComponent("state").path,
        ]
        for broker in brokers { try await broker.start(environment: shared) }
        @Sendable func leads(_ broker: BrokerProcess) -> Bool {
            ((try? String(contentsOf: broker.logFile, encoding: .utf8)) ?? "").contains("cluster leader:")
        }
        #expect(try await EndToEndTests.eventually { brokers.contains(where: leads) }, "no broker took the lead")
        // Each counts the others by heartbeat and takes a third of the rate limit.
        /// Whether the broker has logged sharing the limit among `count` brokers, after the log's first `skip` bytes.
        @Sendable func shares(_ broker: BrokerProcess, among count: Int, skip: Int = 0) -> Bool {
            let log = (try? Data(contentsOf: broker.logFile)) ?? Data()
            return String(decoding: log.dropFirst(skip), as: UTF8.self).split(separator: "\n").contains {
                $0.contains("rate limits shared among the brokers alive") && $0.contains("brokers=\(count)")
            }
        }
        #expect(
            try await EndToEndTests.eventually(seconds: 15) { brokers.allSatisfy { shares($0, among: 3) } },
            "the brokers did not share the rate limit"
        )
        try await Task.sleep(for: .seconds(2))
        let leaders = brokers.filter(leads)
        #expect(leaders.count == 1, "exactly one broker leads")
        let held = try await server.sql(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND (classid::bigint << 32) + objid::bigint = \(0x7772_6974_6c65_6164)",
            database: URL(string: url)?.lastPathComponent ?? ""
        )
        #expect(held.trimmed == "1", "the leader holds the lock: \(held)")
        let leader = try #require(leaders.first)
        let survivors = brokers.filter { $0 !== leader }
        let logged = survivors.map { (try? Data(contentsOf: $0.logFile).count) ?? 0 }
        try await leader.kill9()
        #expect(
            try await EndToEndTests.eventually { survivors.filter(leads).count == 1 },
            "exactly one survivor takes the lead"
        )
        // Once the killed broker's heartbeats are past the window, the survivors share the limit between two.
        #expect(
            try await EndToEndTests.eventually(seconds: 30) {
                zip(survivors, logged).allSatisfy { shares($0, among: 2, skip: $1) }
            },
            "the survivors still share the rate limit with a dead broker"
        )
        let survivor = try #require(survivors.first(where: leads))

        // The new leader expires a task whose deadline passes.
        let client = BrokerClient(baseURL: survivor.baseURL)
        let assertion = try brokers[0].workloadAssertion(Self.coder)
        let task = """
            {"type":"implement-change","max_duration":1,"authorization_details":[{"type":"repository",\
            "locations":["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
            """
        let created = try await client.send(.POST, "/v1/tasks", bearer: assertion, json: task)
        let id = try #require(created.body.objectValue?["id"]?.stringValue, "the task: \(created.body)")
        let expired = try await EndToEndTests.eventually {
            let fetched = try await client.send(.GET, "/v1/tasks/\(id)", bearer: assertion)
            return fetched.body.objectValue?["state"]?.stringValue == "expired"
        }
        await client.shutdown()
        #expect(expired, "the task past its deadline was not expired")
        for broker in survivors { _ = try await broker.stop() }
    }

    static func story(first: BrokerProcess, a: BrokerClient, b: BrokerClient, http: HTTPClient) async throws {
        let assertion = try first.workloadAssertion(coder)
        let created = try await a.send(.POST, "/v1/tasks", bearer: assertion, json: body)
        let task = try #require(created.body.objectValue?["id"]?.stringValue, "\(created.body)")

        // One proof, one token: spent at the first broker, it is a replay at the second.
        let key = PrivateKey.generate(.es256)
        let proof = try DPoPProof.create(method: "POST", url: first.baseURL + "/v1/token", key: key, issuedAt: Date())
        let issued = try await tokenRequest(b, task: task, actor: assertion, proof: proof)
        #expect(issued.status == 200, "a task made at one broker gets its token at another: \(issued.body)")
        let replayed = try await tokenRequest(a, task: task, actor: assertion, proof: proof)
        #expect(replayed.status == 400)
        #expect("\(replayed.body)".contains("proof_replayed"))

        // The second broker's stream, followed as a resource server follows it.
        let stream = try await Stream.open(at: b.baseURL, bearer: try first.operatorToken(), http: http)
        defer { stream.close() }
        #expect(try await stream.waitFor("event: heartbeat", seconds: 10), "the stream opened: \(stream.text)")
        let completed = try await a.send(.POST, "/v1/tasks/\(task)/complete", bearer: assertion)
        #expect(completed.status == 200)
        let started = ContinuousClock.now
        #expect(
            try await stream.waitFor(task, seconds: 5),
            "the entry committed at the first broker reached the second broker's stream: \(stream.text)"
        )
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    static func tokenRequest(
        _ client: BrokerClient,
        task: String,
        actor: String,
        proof: String
    ) async throws
        -> BrokerClient.Reply
    {
        try await client.send(
            .POST,
            "/v1/token",
            form: [
                ("grant_type", TokenRequest.grantType), ("actor_token", actor),
                ("actor_token_type", TokenRequest.jwtType), ("task_id", task),
                ("audience", "https://git.example.org"),
            ],
            headers: [("DPoP", proof)]
        )
    }

    /// A live `text/event-stream` response, read into memory as it arrives.
    final class Stream: Sendable {
        private let received = Mutex("")
        private let reader = Mutex<Task<Void, Never>?>(nil)

        var text: String { received.withLock { $0 } }

        static func open(at base: String, bearer: String, http: HTTPClient) async throws -> Stream {
            var request = HTTPClientRequest(url: base + "/v1/revocations/stream")
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
            let response = try await http.execute(request, timeout: .seconds(120))
            guard response.status == .ok else { throw BrokerError(.internalError, "stream: \(response.status)") }
            let stream = Stream()
            let task = Task {
                do {
                    for try await buffer in response.body {
                        stream.received.withLock { $0 += String(buffer: buffer) }
                    }
                } catch {}
            }
            stream.reader.withLock { $0 = task }
            return stream
        }

        func waitFor(_ needle: String, seconds: Int) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if text.contains(needle) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        func close() { reader.withLock { $0?.cancel() } }
    }
}
