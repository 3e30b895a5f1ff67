import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Synchronization
import Testing
import WritAgent
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

@Suite("The agent SDK", .timeLimit(.minutes(1)))
struct WritAgentTests {
    static let git = "https://git.example.org"
    static let readRepository = AgentTaskDescriptor(
        type: "implement-change",
        purpose: "fix a bug",
        authorizationDetails: [
            AuthorizationDetail(
                type: "repository",
                actions: ["read"],
                locations: [git],
                identifier: "example-org/writ-demo"
            )
        ]
    )

    struct NoPort: Error {}
    struct Boom: Error {}

    /// Runs `body` with an agent for `workload` against the harness's broker on a live port.
    static func withAgent(
        _ harness: BrokerHarness,
        workload: String = BrokerHarness.coder,
        _ body: @Sendable @escaping (WritAgent) async throws -> Void
    ) async throws {
        let assertion = try harness.workload(workload)
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            let agent = WritAgent(
                configuration: .init(broker: "http://127.0.0.1:\(port)", identity: .jwt { assertion })
            )
            do {
                try await body(agent)
            } catch {
                await agent.shutdown()
                throw error
            }
            await agent.shutdown()
        }
    }

    @Test("withTask completes the task on return; its DPoP-bound token is cached and verifies at a resource server")
    func completes() async throws {
        let harness = try await BrokerHarness.make(clock: AdjustableClock(followingRealTime: ()))
        defer { harness.close() }
        let broker = harness.broker
        let clock = harness.clock
        try await Self.withAgent(harness) { agent in
            let keys = try StaticKeySet(JSONWebKeySet(keys: [broker.keys.current.active.verificationKey]))
            let verifier = TokenVerifier(
                configuration: .init(issuer: BrokerHarness.issuer, audience: Self.git),
                keys: keys,
                clock: clock
            )
            let id = try await agent.withTask(Self.readRepository) { task in
                let first = try await task.token(for: Self.git)
                let second = try await task.token(for: Self.git)
                #expect(first.unsafeToken == second.unsafeToken, "tokens are cached")
                #expect(!"\(first)".contains(first.unsafeToken), "descriptions never hold the token")
                var request = HTTPClientRequest(url: Self.git + "/repos/example-org/writ-demo")
                try await task.authorize(&request, audience: Self.git)
                let access = try verifier.verify(
                    Presentation(
                        authorization: request.headers.first(name: "Authorization") ?? "",
                        dpopProof: request.headers.first(name: "DPoP"),
                        method: "GET",
                        url: request.url
                    )
                )
                #expect(access.taskID == task.id)
                return task.id
            }
            #expect(try await broker.tasks.fetch(id: id)?.state == .completed)
        }
    }

    @Test("a token is renewed once it is within renewBefore of its expiry; heartbeats go out while the work runs")
    func renewsAndBeats() async throws {
        let harness = try await BrokerHarness.make(clock: AdjustableClock(followingRealTime: ()))
        defer { harness.close() }
        let broker = harness.broker
        let assertion = try harness.workload(BrokerHarness.coder)
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            // Tokens live minutes; renewing when less than a day is left renews on every call.
            var configuration = WritAgent.Configuration(
                broker: "http://127.0.0.1:\(port)",
                identity: .jwt { assertion }
            )
            configuration.renewBefore = .seconds(86_400)
            let eager = WritAgent(configuration: configuration)
            var beating = Self.readRepository
            beating.heartbeatInterval = .seconds(5)
            do {
                try await eager.withTask(beating) { task in
                    let first = try await task.token(for: Self.git)
                    let second = try await task.token(for: Self.git)
                    #expect(first.unsafeToken != second.unsafeToken, "a token near its expiry is renewed")
                    let created = try #require(try await broker.tasks.fetch(id: task.id)?.createdAt)
                    harness.clock.advance(by: 6)
                    var beat = false
                    let deadline = ContinuousClock.now + .seconds(30)
                    while !beat, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                        beat = (try await broker.tasks.fetch(id: task.id)?.lastHeartbeat ?? created) > created
                    }
                    #expect(beat, "no heartbeat reached the broker")
                }
            } catch {
                await eager.shutdown()
                throw error
            }
            await eager.shutdown()
        }
    }

    @Test("withTask aborts the task when the work throws, and the error comes through")
    func aborts() async throws {
        let harness = try await BrokerHarness.make(clock: AdjustableClock(followingRealTime: ()))
        defer { harness.close() }
        let broker = harness.broker
        try await Self.withAgent(harness) { agent in
            let ids = Mutex<[String]>([])
            await #expect(throws: Boom.self) {
                try await agent.withTask(Self.readRepository) { task in
                    ids.withLock { $0.append(task.id) }
                    throw Boom()
                }
            }
            let id = try #require(ids.withLock { $0.first })
            #expect(try await broker.tasks.fetch(id: id)?.state == .aborted)
        }
    }

    @Test("a denial arrives as a typed error with the policy's reasons")
    func denied() async throws {
        let harness = try await BrokerHarness.make(clock: AdjustableClock(followingRealTime: ()))
        defer { harness.close() }
        try await Self.withAgent(harness) { agent in
            let pushMain = AgentTaskDescriptor(
                type: "implement-change",
                authorizationDetails: [
                    AuthorizationDetail(
                        type: "branch",
                        actions: ["push"],
                        locations: [Self.git],
                        identifier: "example-org/writ-demo/main"
                    )
                ]
            )
            do {
                _ = try await agent.withTask(pushMain) { _ in 1 }
                Issue.record("the task should have been denied")
            } catch let error as WritAgentError {
                guard case .denied(let reasons) = error else {
                    Issue.record("expected a denial, got \(error)")
                    return
                }
                #expect(reasons.first?.code == "forbidden")
                #expect(reasons.first?.action == "push")
                #expect(reasons.first?.rules == ["coding-agent-never-pushes-main"])
            }
        }
    }

    @Test("delegate creates a sub-task for a sub-agent that closes with its parent")
    func delegates() async throws {
        let harness = try await BrokerHarness.make(clock: AdjustableClock(followingRealTime: ()))
        defer { harness.close() }
        let broker = harness.broker
        let research = AgentTaskDescriptor(
            type: "research-report",
            authorizationDetails: [
                AuthorizationDetail(
                    type: "document",
                    actions: ["read"],
                    locations: ["https://docs.example.org"],
                    identifier: "public/reports/q3"
                )
            ]
        )
        try await Self.withAgent(harness, workload: BrokerHarness.orchestrator) { agent in
            let child = try await agent.withTask(research) { task in
                try await task.delegate(research, to: try SPIFFEID(BrokerHarness.summarizer))
            }
            let record = try await broker.tasks.fetch(id: child)
            #expect(record?.workload.description == BrokerHarness.summarizer)
            #expect(record?.state == .aborted)
        }
    }
}
