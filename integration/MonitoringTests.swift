import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import WritAPI
import WritAgent
import WritBroker
import WritTestSupport
import WritToken

/// Watching what agents do, end to end, as real processes: the documents service reports what its verifier
/// allowed and refused, the broker's monitoring rules count it, and a workload probing outside its grant is
/// quarantined and its live token refused at the documents service; an operator sees why, releases it, and it
/// works again. Ten workloads of ordinary traffic raise nothing.
@Suite("Monitoring end to end", .serialized, .timeLimit(.minutes(5)))
struct MonitoringTests {
    static let docs = "https://docs.example.org"
    static let assistant = "spiffe://example.org/agents/retrieval-assistant"
    static let leave = "departments/hr/handbook/leave"

    /// Reads a document with the task's token and a fresh proof; the status and body.
    static func read(
        _ document: String,
        task: AgentTask,
        service: String,
        http: HTTPClient
    ) async throws -> (
        UInt, String
    ) {
        var request = HTTPClientRequest(url: service + "/documents/" + document)
        try await task.authorize(&request, audience: docs)
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (response.status.code, body)
    }

    /// Starts a broker on `policies` and the documents service (reporting every second, its default), runs
    /// `body`, and stops both whether it succeeds or not.
    static func withServices(
        policies: URL? = nil,
        _ body: (BrokerProcess, String, HTTPClient) async throws -> Void
    ) async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        var environment: [String: String] = [:]
        if let policies { environment["WRIT_POLICIES"] = policies.path }
        try await broker.start(environment: environment)
        let documents = try EndToEndTests.DocumentsProcess(
            broker: broker,
            staleness: 3,
            log: broker.stateDirectory.appendingPathComponent("docs.log")
        )
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        do {
            try await documents.ready()
            try await body(broker, documents.base, http)
        } catch {
            await documents.stop()
            try? await http.shutdown()
            throw error
        }
        await documents.stop()
        try await http.shutdown()
        try await broker.stop()
    }

    @Test("a prompt-injected step probing outside its grant: quarantined, its live token refused within 5 s, released")
    func story() async throws {
        try await Self.withServices { broker, service, http in
            // An operator follows the admin event stream with curl from the start.
            let token = try broker.operatorToken()
            let streamed = broker.stateDirectory.appendingPathComponent("events.txt")
            FileManager.default.createFile(atPath: streamed.path, contents: nil)
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            curl.arguments = [
                "curl", "-sN", "-H", "Authorization: Bearer \(token)", broker.baseURL + "/v1/admin/events",
            ]
            curl.standardOutput = try FileHandle(forWritingTo: streamed)
            try curl.run()
            defer { if curl.isRunning { curl.terminate() } }
            let (agent, alice) = try EndToEndTests.assistantAndAlice(broker)
            let descriptor = EndToEndTests.descriptor([Self.leave], user: alice)
            let seen = Mutex<(task: String, elapsed: Duration, refusal: (status: UInt, body: String)?)?>(nil)
            // The quarantine aborts the task; the agent's closing call finds it closed.
            try await agent.withTask(descriptor) { task in
                #expect(try await Self.read(Self.leave, task: task, service: service, http: http).0 == 200)
                // The injected step: documents outside the grant, one after another. The sixth refusal
                // within the minute crosses the example policy's threshold.
                let strays = [
                    "departments/finance/payroll/2026-11", "departments/hr/handbook/expenses", "public/reports/q3",
                    "departments/finance/payroll/2026-10", "departments/legal/contracts", "departments/hr/salaries",
                ]
                for document in strays {
                    #expect(try await Self.read(document, task: task, service: service, http: http).0 == 403)
                }
                let crossed = ContinuousClock.now
                // The assistant keeps reading its own document with its live token until it is refused.
                var refusal: (status: UInt, body: String)?
                while refusal == nil, ContinuousClock.now - crossed < .seconds(15) {
                    let (status, body) = try await Self.read(Self.leave, task: task, service: service, http: http)
                    if status != 200 { refusal = (status, body) } else { try await Task.sleep(for: .milliseconds(50)) }
                }
                let elapsed = ContinuousClock.now - crossed
                seen.withLock { $0 = (task.id, elapsed, refusal) }
            }
            let story = try #require(seen.withLock { $0 })
            let refused = try #require(story.refusal, "the live token was never refused")
            #expect(refused.status == 401 && refused.body.contains("revoked"), "\(refused)")
            #expect(story.elapsed < .seconds(5), "refused \(story.elapsed) after the threshold was crossed")

            // The operator sees why.
            let writ = WritRunner(broker: broker)
            let monitor = try await writ.run(["monitor"])
            #expect(monitor.status == 0, "\(monitor.stderr)")
            #expect(monitor.stdout.contains("retrieval-probing-outside-grant"), "\(monitor.stdout)")
            #expect(monitor.stdout.contains("6 refusals (insufficient_authorization)"), "\(monitor.stdout)")
            // The alert reaches the stream once it is stored, just after the quarantine it made.
            var events = ""
            for _ in 0..<50 where !events.contains("event: alert") {
                try await Task.sleep(for: .milliseconds(100))
                events = (try? String(contentsOf: streamed, encoding: .utf8)) ?? ""
            }
            #expect(events.contains("event: alert\ndata: {"), "curl saw: \(events)")
            #expect(events.contains("\"rule\":\"retrieval-probing-outside-grant\""), "curl saw: \(events)")
            #expect(events.contains("\"response\":\"quarantine_workload\""), "curl saw: \(events)")
            let listed = try await writ.run(["quarantine", "list", "--json"])
            let quarantines = try QuarantineListResponse(responseBody: Array(listed.stdout.utf8)).quarantines
            #expect(quarantines.map(\.workload) == [Self.assistant])
            #expect(quarantines.first?.alert?.task == story.task)

            // New tasks are refused while it is in quarantine.
            await #expect(throws: WritAgentError.self) { try await agent.withTask(descriptor) { _ in } }

            let released = try await writ.run([
                "quarantine", "release", Self.assistant, "--reason", "the injected document is removed",
            ])
            #expect(released.status == 0 && released.stdout.contains("released"), "\(released.stderr)")
            try await Task.sleep(for: .milliseconds(1100))
            let status = try await agent.withTask(descriptor) { task in
                var status: UInt = 0
                for _ in 0..<40 where status != 200 {
                    status = try await Self.read(Self.leave, task: task, service: service, http: http).0
                    if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
                }
                return status
            }
            #expect(status == 200, "works again once released")
            // What was used, set against the policies: the retrieval permit was used, other permits were not.
            let policies = BrokerProcess.policies.path
            let suggest = try await writ.run(["policy", "suggest", policies, "--all"])
            #expect(suggest.status == 1, "there are candidates: \(suggest.stderr)")
            #expect(
                suggest.stdout.contains(
                    "permit retrieval-reads-named-documents-in-own-department: read document departments/{user.department}/** "
                        + "at https://docs.example.org used"
                ),
                "\(suggest.stdout)"
            )
            #expect(suggest.stdout.contains("permit coding-agent"), "\(suggest.stdout)")
            let graph = try await writ.run(["policy", "graph", policies, "--observed"])
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("never used"), "\(graph.stdout)")
            #expect(
                graph.stdout.contains(
                    #""spiffe://example.org/agents/retrieval-assistant" -> "https://docs.example.org""#
                ),
                "\(graph.stdout)"
            )
            #expect(graph.stdout.contains("refused"), "\(graph.stdout)")
            let baselines = try await writ.run(["monitor"])
            #expect(baselines.stdout.contains("baseline vs now:"), "\(baselines.stdout)")
            #expect(baselines.stdout.contains("answer-question"), "\(baselines.stdout)")

            let after = try await writ.run(["quarantine", "list"])
            #expect(after.stdout.contains("no workload is in quarantine"), "\(after.stdout)")
            await agent.shutdown()
        }
    }

    @Test("a token taken from the agent and presented with another key (PyJWT's proof): refused, its task revoked")
    func tokenElsewhere() async throws {
        try await Self.withServices { broker, service, http in
            // An operator follows the alerts with `writ monitor --follow`.
            let follow = try WritRunner(broker: broker).start(["monitor", "--follow"])
            do {
                try await Self.tokenElsewhere(broker: broker, service: service, http: http, follow: follow)
            } catch {
                try await follow.stop()
                throw error
            }
            try await follow.stop()
        }
    }

    static func tokenElsewhere(
        broker: BrokerProcess,
        service: String,
        http: HTTPClient,
        follow: WritRunner.Running
    ) async throws {
        do {
            let (agent, alice) = try EndToEndTests.assistantAndAlice(broker)
            let descriptor = EndToEndTests.descriptor([Self.leave], user: alice)
            let seen = Mutex<(thief: String, refusal: (status: UInt, body: String)?)?>(nil)
            try await agent.withTask(descriptor) { task in
                #expect(try await Self.read(Self.leave, task: task, service: service, http: http).0 == 200)
                var request = HTTPClientRequest(url: service + "/documents/" + Self.leave)
                try await task.authorize(&request, audience: Self.docs)
                let token = try #require(request.headers.first(name: "Authorization")?.split(separator: " ").last)
                let thief = try StandardClientsTests.Script(
                    "other_key_proof.py",
                    [service + "/documents/" + Self.leave, String(token)],
                    in: broker.stateDirectory
                )
                #expect(try await thief.finish() == 0, "\(thief.text)")
                let crossed = ContinuousClock.now
                var refusal: (status: UInt, body: String)?
                while refusal == nil, ContinuousClock.now - crossed < .seconds(15) {
                    let (status, body) = try await Self.read(Self.leave, task: task, service: service, http: http)
                    if status != 200 { refusal = (status, body) } else { try await Task.sleep(for: .milliseconds(50)) }
                }
                seen.withLock { $0 = (thief.text, refusal) }
            }
            let story = try #require(seen.withLock { $0 })
            #expect(story.thief.contains("401") && story.thief.contains("binding_mismatch"), "\(story.thief)")
            let refused = try #require(story.refusal, "the agent's own token was never refused")
            #expect(refused.status == 401 && refused.body.contains("revoked"), "\(refused)")
            let monitor = try await WritRunner(broker: broker).run(["monitor"])
            #expect(monitor.stdout.contains("retrieval-token-elsewhere"), "\(monitor.stdout)")
            #expect(monitor.stdout.contains("other than the one it is bound to"), "\(monitor.stdout)")
            var followed = ""
            for _ in 0..<50 where !followed.contains("retrieval-token-elsewhere") {
                try await Task.sleep(for: .milliseconds(100))
                followed = follow.stdout
            }
            let line = followed.split(separator: "\n").first { $0.contains("retrieval-token-elsewhere") }
            #expect(line?.contains("revoke_task") == true, "writ monitor --follow printed: \(followed)")
            #expect(line?.contains("other than the one it is bound to") == true, "\(followed)")
            await agent.shutdown()
        }
    }

    /// Ten agents of one team that read the public reports; the monitoring rule watches every agent.
    static let teamPolicy = """
        rules:
          - id: team-reads-public-reports
            effect: permit
            when:
              workload:
                id: spiffe://example.org/agents/team/*
              task:
                type: summarize-reports
            resources:
              - type: document
                locations: https://docs.example.org
                identifiers: "public/**"
                actions: read
        monitoring:
          - id: any-agent-probing
            when:
              workload: spiffe://example.org/agents/**
            refusals:
              codes: [insufficient_authorization]
              more_than: 5
              within: 60s
              per: task
            response: quarantine_workload
        """

    @Test("ten workloads of ordinary, varied traffic raise no alert; a probing one among them is quarantined")
    func noFalsePositives() async throws {
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("writ-team-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: policies) }
        try Self.teamPolicy.write(to: policies.appendingPathComponent("team.yaml"), atomically: true, encoding: .utf8)
        try await Self.withServices(policies: policies) { broker, service, http in
            let agents = try (0..<10).map { index in
                let assertion = try broker.workloadAssertion("spiffe://example.org/agents/team/agent-\(index)")
                return WritAgent(configuration: .init(broker: broker.baseURL, identity: .jwt { assertion }))
            }
            // Each agent runs tasks of its own shape for about eight seconds: one to four reports per task,
            // read once or again at varied pauses, reports that do not exist (allowed, then 404), and now and
            // then one document outside the task (a user asking for more): at most two refusals per task.
            let outcomes = try await withThrowingTaskGroup(of: (reads: Int, refused: Int).self) { group in
                for (index, agent) in agents.enumerated() {
                    group.addTask {
                        var generator = SplitMix64(seed: UInt64(index + 1))
                        var reads = 0
                        var refused = 0
                        let end = ContinuousClock.now + .seconds(8)
                        while ContinuousClock.now < end {
                            let count = Int(generator.next() % 4) + 1
                            let reports = (0..<count).map { _ in "public/reports/q\(generator.next() % 6)" }
                            let again = reports.prefix(Int(generator.next() % 3))
                            let pauses = (0..<(count + again.count)).map { _ in 20 + Int(generator.next() % 200) }
                            let strays = (0..<Int(generator.next() % 3)).map { _ in
                                "departments/other/q\(generator.next() % 4)"
                            }
                            let descriptor = AgentTaskDescriptor(
                                type: "summarize-reports",
                                authorizationDetails: reports.map {
                                    AuthorizationDetail(
                                        type: "document",
                                        actions: ["read"],
                                        locations: [Self.docs],
                                        identifier: $0
                                    )
                                }
                            )
                            let done = try await agent.withTask(descriptor) { task in
                                for (report, pause) in zip(reports + again, pauses) {
                                    let status = try await Self.read(report, task: task, service: service, http: http).0
                                    #expect(status == 200 || status == 404, "\(report): \(status)")
                                    try await Task.sleep(for: .milliseconds(pause))
                                }
                                for stray in strays {
                                    #expect(
                                        try await Self.read(stray, task: task, service: service, http: http).0 == 403
                                    )
                                }
                                return (reports.count + again.count, strays.count)
                            }
                            reads += done.0
                            refused += done.1
                        }
                        return (reads, refused)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 10 && outcomes.allSatisfy { $0.reads > 5 })
            #expect(outcomes.map(\.refused).reduce(0, +) > 0, "the ordinary traffic had refusals of its own")
            // Wait out the last report, then nothing fired.
            try await Task.sleep(for: .milliseconds(2000))
            let writ = WritRunner(broker: broker)
            let quiet = try await writ.run(["monitor", "--json"])
            let view = try MonitorResponse(responseBody: Array(quiet.stdout.utf8))
            #expect(view.alerts.isEmpty && view.quarantines.isEmpty, "\(quiet.stdout)")

            // The same rule does fire for one of them that probes.
            let prober = agents[3]
            let descriptor = AgentTaskDescriptor(
                type: "summarize-reports",
                authorizationDetails: [
                    AuthorizationDetail(
                        type: "document",
                        actions: ["read"],
                        locations: [Self.docs],
                        identifier: "public/reports/q1"
                    )
                ]
            )
            try await prober.withTask(descriptor) { task in
                for index in 0..<6 {
                    let status = try await Self.read(
                        "departments/hr/\(index)",
                        task: task,
                        service: service,
                        http: http
                    )
                    #expect(status.0 == 403)
                }
            }
            var fired = false
            for _ in 0..<60 where !fired {
                try await Task.sleep(for: .milliseconds(100))
                let view = try MonitorResponse(
                    responseBody: Array(try await writ.run(["monitor", "--json"]).stdout.utf8)
                )
                fired = view.quarantines.map(\.workload) == ["spiffe://example.org/agents/team/agent-3"]
            }
            #expect(fired)
            for agent in agents { await agent.shutdown() }
        }
    }
}

/// A small deterministic generator, so the ordinary traffic is varied and the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
