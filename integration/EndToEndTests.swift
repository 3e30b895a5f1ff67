import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import WritAgent
import WritBroker
import WritTestSupport
import WritToken

/// The three users of Writ together, as real processes on loopback: the broker, the example documents
/// service (WritVerifier + its Hummingbird middleware, following the feed) and an agent using WritAgent.
@Suite("End to end", .serialized, .timeLimit(.minutes(5)))
struct EndToEndTests {
    static let docs = "https://docs.example.org"
    static let assistant = "spiffe://example.org/agents/retrieval-assistant"

    /// The documents service process.
    final class DocumentsProcess: @unchecked Sendable {
        let process = Process()
        let port: Int

        /// The service's own workload identity, with which it reads the broker's feed.
        static let identity = "spiffe://example.org/services/documents"

        init(broker: BrokerProcess, staleness: Int, log: URL) throws {
            port = try BrokerProcess.freePort()
            process.executableURL = BrokerProcess.executable.deletingLastPathComponent()
                .appendingPathComponent("writ-example-documents")
            let credential = broker.stateDirectory.appendingPathComponent("documents.jwt")
            try broker.workloadAssertion(Self.identity).write(to: credential, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["WRIT_BROKER"] = broker.baseURL
            environment["FEED_CREDENTIAL_FILE"] = credential.path
            environment["LISTEN"] = "127.0.0.1:\(port)"
            environment["MAXIMUM_STALENESS"] = String(staleness)
            process.environment = environment
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = process.standardOutput
            try process.run()
        }

        var base: String { "http://127.0.0.1:\(port)" }

        func ready() async throws {
            for _ in 0..<200 {
                if BrokerProcess.accepts(port: port) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw CancellationError()
        }

        func stop() async {
            process.terminate()
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// The retrieval assistant as an agent, and alice of HR's signed-in assertion (the development identities).
    static func assistantAndAlice(_ broker: BrokerProcess) throws -> (WritAgent, String) {
        let assertion = try broker.workloadAssertion(Self.assistant)
        let alice = try DevelopmentIdentity.userAssertion(
            subject: "alice",
            claims: ["email": .string("alice@example.org"), "department": .string("hr")],
            audience: "writ",
            key: try broker.state.developmentKey(named: DevelopmentIdentity.userKeyName),
            now: Date()
        )
        return (WritAgent(configuration: .init(broker: broker.baseURL, identity: .jwt { assertion })), alice)
    }

    static func descriptor(_ documents: [String], user: String?) -> AgentTaskDescriptor {
        AgentTaskDescriptor(
            type: "answer-question",
            authorizationDetails: documents.map {
                AuthorizationDetail(type: "document", actions: ["read"], locations: [docs], identifier: $0)
            },
            userAssertion: user
        )
    }

    /// GET a document with the task's token and proof; the status code.
    static func read(_ document: String, task: AgentTask, service: String, http: HTTPClient) async throws -> UInt {
        var request = HTTPClientRequest(url: service + "/documents/" + document)
        try await task.authorize(&request, audience: docs)
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    /// Polls until `condition` holds, up to `seconds`.
    static func eventually(seconds: Int = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 20) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Starts the broker and the documents service, makes an agent for the retrieval assistant and alice's ID
    /// token, runs `body` with them, and stops everything, whether `body` succeeds or not.
    static func withStory(
        environment: [String: String] = [:],
        _ body: (BrokerProcess, String, HTTPClient, WritAgent, String) async throws -> Void
    ) async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start(environment: environment)
        let documents = try DocumentsProcess(
            broker: broker,
            staleness: 3,
            log: broker.stateDirectory.appendingPathComponent("docs.log")
        )
        try await documents.ready()
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        let (agent, alice) = try Self.assistantAndAlice(broker)
        let service = documents.base
        do {
            try await body(broker, service, http, agent, alice)
        } catch {
            await documents.stop()
            await agent.shutdown()
            try? await http.shutdown()
            throw error
        }
        await documents.stop()
        await agent.shutdown()
        try await http.shutdown()
        try await broker.stop()
    }

    @Test("the assistant reads exactly its task's documents; stray steps, closed tasks and revocations get nothing")
    func story() async throws {
        try await Self.withStory(Self.storyOfTheAssistant)
    }

    @Test("the same story with the broker's records on PostgreSQL (WRIT_DATABASE_URL)")
    func storyOnPostgreSQL() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        try await Self.withStory(environment: ["WRIT_DATABASE_URL": server.url(database: database)]) {
            try await Self.storyOfTheAssistant($0, $1, $2, $3, $4)
        }
        // The records are PostgreSQL's: the story's tasks, its revocations and its audit chain are there.
        #expect(
            try await server.sql("SELECT COUNT(*) FROM tasks", database: database).trimmed == "2",
            "the denied one is not"
        )
        #expect(Int(try await server.sql("SELECT COUNT(*) FROM revocations", database: database).trimmed) ?? 0 >= 2)
        #expect(
            try await server.sql("SELECT COUNT(*) FROM revocations WHERE kind = 'workload'", database: database).trimmed
                == "1"
        )
        let gaps = try await server.sql(
            "SELECT COUNT(*) FROM audit AS a WHERE seq > 1 AND NOT EXISTS "
                + "(SELECT 1 FROM audit AS b WHERE b.seq = a.seq - 1 AND b.hash = a.prev_hash)",
            database: database
        )
        #expect(gaps.trimmed == "0", "every audit entry follows the one before it")
    }

    static func storyOfTheAssistant(
        _ broker: BrokerProcess,
        _ service: String,
        _ http: HTTPClient,
        _ agent: WritAgent,
        _ alice: String
    ) async throws {
        // Reads what the task names; a document outside the task, or at another server, gets nothing.
        let leave = "departments/hr/handbook/leave"
        let prepared = try await agent.withTask(Self.descriptor([leave], user: alice)) { task in
            #expect(try await Self.read(leave, task: task, service: service, http: http) == 200)
            #expect(
                try await Self.read("departments/hr/handbook/expenses", task: task, service: service, http: http)
                    == 403
            )
            await #expect(throws: WritAgentError.self, "a token for another resource server") {
                _ = try await task.token(for: "https://git.example.org")
            }
            // Requests authorised now (each with its own fresh proof), sent after the task completes.
            var requests: [HTTPClientRequest] = []
            for _ in 0..<100 {
                var request = HTTPClientRequest(url: service + "/documents/" + leave)
                try await task.authorize(&request, audience: Self.docs)
                requests.append(request)
            }
            return requests
        }
        // The task completed: its token is refused as revoked once the feed delivers the entry.
        var refusedAsRevoked = false
        for request in prepared {
            let (status, body) = try await Self.send(request, http: http)
            if status == 401, body.contains("\"code\":\"revoked\"") {
                refusedAsRevoked = true
                break
            }
            #expect(status == 200, "before the revocation arrives the token is still good: \(body)")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(refusedAsRevoked, "a completed task's token was still accepted")

        // Another department is denied by the policy, with machine-readable reasons.
        do {
            _ = try await agent.withTask(Self.descriptor(["departments/finance/payroll/2026-11"], user: alice)) {
                _ in 0
            }
            Issue.record("a finance document was granted to an hr user")
        } catch let error as WritAgentError {
            guard case .denied(let reasons) = error else { throw error }
            #expect(reasons.first?.code == "not_covered")
        }

        // An operator revokes the workload mid-task: its token is refused everywhere.
        try await agent.withTask(Self.descriptor([leave], user: alice)) { task in
            #expect(try await Self.read(leave, task: task, service: service, http: http) == 200)
            // The operator uses the CLI, as at 3 a.m.
            let revoked = try await WritRunner(broker: broker).run(["revoke", "workload", Self.assistant])
            #expect(revoked.status == 0, "\(revoked.stderr)")
            #expect(revoked.stdout.contains("tasks closed    1"))
            #expect(revoked.stdout.contains("(durable)"))
            #expect(
                try await Self.eventually {
                    var request = HTTPClientRequest(url: service + "/documents/" + leave)
                    try await task.authorize(&request, audience: Self.docs)
                    let (status, body) = try await Self.send(request, http: http)
                    return status == 401 && body.contains("\"code\":\"revoked\"")
                },
                "the revoked workload's token was still accepted"
            )
            return 0
        }
    }

    @Test("a sub-agent (its own process) reads with its delegated task's token until the parent task completes")
    func subAgentDiesWithParent() async throws {
        try await Self.withStory { broker, service, http, _, _ in
            let report = "public/reports/q3"
            let orchestratorAssertion = try broker.workloadAssertion(
                "spiffe://example.org/agents/research-orchestrator"
            )
            let summarizer = try SPIFFEID("spiffe://example.org/agents/summarizer")
            let orchestrator = WritAgent(
                configuration: .init(broker: broker.baseURL, identity: .jwt { orchestratorAssertion })
            )
            let research = AgentTaskDescriptor(
                type: "research-report",
                authorizationDetails: [
                    AuthorizationDetail(type: "document", actions: ["read"], locations: [Self.docs], identifier: report)
                ]
            )
            let output = broker.stateDirectory.appendingPathComponent("sub-agent.out")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let subAgent = Process()
            subAgent.executableURL = BrokerProcess.executable.deletingLastPathComponent()
                .appendingPathComponent("writ-example-assistant")
            subAgent.standardOutput = try FileHandle(forWritingTo: output)
            subAgent.standardError = subAgent.standardOutput
            @Sendable func printed() -> String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
            let parent = try await orchestrator.withTask(research) { task in
                // The orchestrator's own reads work; it hands a narrower sub-task to the summarizer's process.
                #expect(try await Self.read(report, task: task, service: service, http: http) == 200)
                let child = try await task.delegate(research, to: summarizer)
                subAgent.arguments = [
                    "--broker", broker.baseURL, "--documents", service, "--join", child,
                    "--workload-token", try broker.workloadAssertion(summarizer.description),
                    "--read", report, "--until-refused", "20",
                ]
                try subAgent.run()
                #expect(
                    try await Self.eventually { printed().contains("\"status\":\"200\"") },
                    "the sub-agent could not read with its delegated task: \(printed())"
                )
                return task.id
            }
            // The parent completed: the sub-task closed with it, and the sub-agent's cached token is refused.
            for _ in 0..<200 where subAgent.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            if subAgent.isRunning { subAgent.terminate() }
            let lines = printed().split(separator: "\n").map(String.init)
            #expect(lines.first?.contains("\"step\":\"joined\"") == true, "\(lines.prefix(3))")
            let last = try #require(lines.last { $0.contains("\"step\":\"again\"") })
            #expect(last.contains("\"status\":\"401\""), "\(last)")
            #expect(last.contains("revoked"), "\(last)")
            let client = BrokerClient(baseURL: broker.baseURL)
            let tree = try await client.send(
                .GET,
                "/v1/admin/tasks/\(parent)",
                bearer: try broker.operatorToken()
            )
            await client.shutdown()
            let states = tree.body.objectValue?["tasks"]?.arrayValue?.compactMap {
                $0.objectValue?["state"]?.stringValue
            }
            #expect(
                states == ["completed", "completed"] || states == ["completed", "aborted"],
                "\(String(describing: states))"
            )
            await orchestrator.shutdown()
        }
    }

    @Test("with the broker down the service keeps serving until its staleness bound, then fails closed, and recovers")
    func brokerDown() async throws {
        try await Self.withStory { broker, service, http, agent, alice in
            let leave = "departments/hr/handbook/leave"
            try await agent.withTask(Self.descriptor([leave], user: alice)) { task in
                func read() async throws -> (UInt, String) {
                    // The token is cached and each proof is signed locally: no call to the broker.
                    var request = HTTPClientRequest(url: service + "/documents/" + leave)
                    try await task.authorize(&request, audience: Self.docs)
                    return try await Self.send(request, http: http)
                }
                #expect(try await read().0 == 200)
                try await broker.stop()
                // Within the staleness bound the service keeps serving the valid token…
                #expect(try await read().0 == 200, "a valid token was refused right after the broker stopped")
                // …past it, it refuses every token: it never serves on old knowledge.
                try await Task.sleep(for: .seconds(5))
                let (stale, body) = try await read()
                #expect(stale == 401)
                #expect(body.contains("revocation_view_stale"), "past the bound: \(body)")
                // The broker returns (same state and port): the service catches up and serves again.
                try await broker.start()
                #expect(try await Self.eventually(seconds: 15) { try await read().0 == 200 }, "no recovery")
                // A revocation made as soon as the broker is back is not missed.
                let client = BrokerClient(baseURL: broker.baseURL)
                let revoked = try await client.send(
                    .POST,
                    "/v1/admin/revocations",
                    bearer: try broker.operatorToken(),
                    json: "{\"kind\":\"user\",\"id\":\"alice\"}"
                )
                await client.shutdown()
                #expect(revoked.status == 201)
                #expect(
                    try await Self.eventually {
                        let (status, body) = try await read()
                        return status == 401 && body.contains("\"code\":\"revoked\"")
                    },
                    "the revocation made after the broker returned was missed"
                )
                return 0
            }
        }
    }

    /// Sends a prepared request; its status and body.
    static func send(_ request: HTTPClientRequest, http: HTTPClient) async throws -> (UInt, String) {
        let response = try await http.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}

extension String {
    /// Without surrounding white space (what psql prints around a value).
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
