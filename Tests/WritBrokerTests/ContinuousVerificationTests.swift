import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritPolicy
import WritTestSupport
import WritToken

@testable import WritBroker

/// What holds between requests: single-use proofs across restarts, revocations seen inside the commit that
/// creates a task, and the policy in force deciding every token.
@Suite("Continuous verification")
struct ContinuousVerificationTests {
    static let git = "https://git.example.org"
    static let dpop = HTTPField.Name("DPoP")!

    @Test("a DPoP proof used before a restart is refused after it")
    func proofReplayAfterRestart() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let proof = try harness.proof()
        let (task, coder) = try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: proof]
            )
            #expect(issued.status == 200)
            return (task, coder)
        }
        let restarted = try await harness.reopened()
        try await restarted.withClient { client async throws in
            let replayed = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: proof]
            )
            #expect(replayed.status == 400)
            #expect(replayed.body["error"]?.string == "invalid_dpop_proof")
            #expect(replayed.body["error_description"]?.string?.contains("proof_replayed") == true)
            // A fresh proof from the same key still works after the restart.
            let fresh = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            #expect(fresh.status == 200)
        }
    }

    @Test("a workload revocation committed before a task's commit refuses the task, whatever memory knew")
    func revocationCheckedInsideTheCommit() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        // Recorded in the store only: the broker's in-memory feed has not caught up, as in the moment between
        // another request's commit and its publication.
        let coder = try SPIFFEID(BrokerHarness.coder)
        let now = harness.clock.now
        _ = try await harness.database.write { db in
            try RevocationRows.insert(
                db,
                .workload(coder),
                revokedAt: now,
                retainUntil: now.addingTimeInterval(3600),
                actor: "test"
            )
        }
        try await harness.withClient { client async throws in
            let assertion = try harness.workload(BrokerHarness.coder)
            let refused = try await client.json(.post, "/v1/tasks", bearer: assertion, body: Bodies.readRepository)
            #expect(refused.status == 403)
            #expect(refused.body["error"]?.string == "revoked")
            #expect(refused.body["error_description"]?.string?.contains("until it lapses at") == true)
            // Another workload is not affected.
            let other = try harness.workload(BrokerHarness.orchestrator)
            let allowed = try await client.json(.post, "/v1/tasks", bearer: other, body: Bodies.research())
            #expect(allowed.status == 201)
        }
    }

    @Test("racing task creations against a workload revocation leave no task open after it")
    func racingCreations() async throws {
        let harness = try await BrokerHarness.make { $0.limits.openTasks = 1000 }
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let assertion = try harness.workload(BrokerHarness.coder)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        if index == 30 {
                            let revoked = try await client.json(
                                .post,
                                "/v1/admin/revocations",
                                bearer: harness.operatorToken,
                                body: "{\"kind\":\"workload\",\"id\":\"\(BrokerHarness.coder)\"}"
                            )
                            #expect(revoked.status == 201)
                        } else {
                            _ = try await client.json(
                                .post,
                                "/v1/tasks",
                                bearer: assertion,
                                body: Bodies.readRepository
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let open = try await client.json(
                .get,
                "/v1/admin/tasks?workload=\(BrokerHarness.coder)&state=open",
                bearer: harness.operatorToken
            )
            #expect(open.status == 200)
            #expect(open.body["tasks"]?.arrayValue?.count == 0)
        }
    }

    @Test("a forbid installed after a task opened refuses its next token, with the policy's reasons")
    func policyChangeAppliesToOpenTasks() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let first = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            #expect(first.status == 200)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "writ-policies-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for name in try FileManager.default.contentsOfDirectory(atPath: BrokerHarness.policyDirectory.path)
            where name.hasSuffix(".yaml") {
                try FileManager.default.copyItem(
                    at: BrokerHarness.policyDirectory.appendingPathComponent(name),
                    to: directory.appendingPathComponent(name)
                )
            }
            try """
            rules:
              - id: repository-frozen
                effect: forbid
                description: The repository is frozen for an audit.
                when:
                  workload:
                    id: spiffe://example.org/agents/coding-agent
                resources:
                  - type: repository
                    identifiers: example-org/writ-demo
                    actions: [read]
            """.write(to: directory.appendingPathComponent("freeze.yaml"), atomically: true, encoding: .utf8)
            guard case .success(let frozen) = PolicyLoader.load(directory: directory) else {
                Issue.record("the frozen policy set does not load")
                return
            }
            harness.broker.install(frozen)

            let refused = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            #expect(refused.status == 400)
            #expect(refused.body["error"]?.string == "invalid_grant")
            let reasons = refused.body["reasons"]?.arrayValue ?? []
            #expect(reasons.contains { $0["rules"]?.arrayValue?.contains(.string("repository-frozen")) == true })

            let audit = try await client.json(.get, "/v1/admin/audit?last=5", bearer: harness.operatorToken)
            let events = audit.body["entries"]?.arrayValue?.compactMap { $0["event"]?.string } ?? []
            #expect(events.contains("token.denied"))
        }
    }
}
