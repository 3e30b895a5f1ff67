import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import Testing
import WritPolicy
import WritTestSupport
import WritToken

@testable import WritBroker

@Suite("Task routes")
struct TaskRouteTests {
    @Test("a permitted task is created with its grant and a deadline")
    func createPermitted() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let assertion = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let created = try await client.json(.post, "/v1/tasks", bearer: assertion, body: Bodies.readRepository)
            #expect(created.status == 201)
            #expect(created.body["state"]?.string == "open")
            #expect(created.body["grant"]?["token_lifetime"]?.integerValue == 600)
            #expect(created.headers[.location] == "/v1/tasks/\(created.body["id"]?.string ?? "")")
            let deadline = try #require(created.body["deadline"]?.integerValue)
            #expect(deadline == harness.clock.now.addingTimeInterval(3600).numericDate)
        }
    }

    @Test("a denied task answers 403 with the policy's machine-readable reasons, and is audited")
    func createDenied() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let assertion = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let denied = try await client.json(.post, "/v1/tasks", bearer: assertion, body: Bodies.pushMain)
            #expect(denied.status == 403)
            #expect(denied.body["error"]?.string == "access_denied")
            let reason = denied.body["reasons"]?.arrayValue?.first
            #expect(reason?["code"]?.string == "forbidden")
            #expect(reason?["rules"]?.arrayValue?.first?.string == "coding-agent-never-pushes-main")
        }
        let events = try await harness.database.read { db in try AuditRows.list(db, after: 0, limit: 100) }
        #expect(events.contains { $0.event == "task.denied" })
    }

    @Test(
        "bad requests to create a task get a 4xx with a stable code",
        arguments: [
            ("{\"type\":", "application/json", 400, "invalid_request"),
            ("[]", "application/json", 400, "invalid_request"),
            ("{\"type\":\"x\",\"authorization_details\":[]}", "application/json", 400, "invalid_request"),
            (
                "{\"type\":\"x\",\"surprise\":1,\"authorization_details\":[{\"type\":\"a\"}]}", "application/json", 400,
                "invalid_request"
            ),
            ("{\"type\":\"x\",\"type\":\"y\"}", "application/json", 400, "invalid_request"),
            ("type=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
            (
                "{\"type\":\"x\",\"heartbeat_interval\":1,\"authorization_details\":[{\"type\":\"a\"}]}",
                "application/json", 400, "invalid_request"
            ),
            (
                "{\"type\":\"x\",\"delegate_to\":\"spiffe://example.org/a\",\"authorization_details\":[{\"type\":\"a\"}]}",
                "application/json", 400, "invalid_request"
            ),
        ]
    )
    func createMalformed(body: String, contentType: String, status: Int, code: String) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let assertion = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let response = try await client.json(
                .post,
                "/v1/tasks",
                bearer: assertion,
                body: body,
                contentType: contentType
            )
            #expect(response.status == status)
            #expect(response.body["error"]?.string == code)
        }
    }

    @Test("a body over the limit is refused with payload_too_large")
    func createTooLarge() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let assertion = try harness.workload(BrokerHarness.coder)
        let body = "{\"type\":\"" + String(repeating: "a", count: 70_000) + "\"}"
        try await harness.withClient { client async throws in
            let response = try await client.json(.post, "/v1/tasks", bearer: assertion, body: body)
            #expect(response.status == 413)
            #expect(response.body["error"]?.string == "payload_too_large")
        }
    }

    @Test(
        "callers without a valid workload assertion are refused with 401",
        arguments: ["none", "garbage", "wrong-audience", "other-trust-domain", "expired"]
    )
    func createUnauthenticated(kind: String) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let bearer: String?
        switch kind {
        case "none": bearer = nil
        case "garbage": bearer = "not.a.jwt"
        case "wrong-audience": bearer = try harness.workload(BrokerHarness.coder, audience: "someone-else")
        case "other-trust-domain": bearer = try harness.workload("spiffe://evil.example/agents/coding-agent")
        default:
            let old = try harness.workload(BrokerHarness.coder)
            harness.clock.advance(by: 7200)
            bearer = old
        }
        try await harness.withClient { client async throws in
            let response = try await client.json(.post, "/v1/tasks", bearer: bearer, body: Bodies.readRepository)
            #expect(response.status == 401)
            #expect(response.body["error"]?.string == "unauthenticated")
            #expect(response.headers[.wwwAuthenticate] != nil)
        }
    }

    @Test("only the task's workload or an operator sees a task; others get 404")
    func getTask() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        let other = try harness.workload(BrokerHarness.assistant)
        try await harness.withClient { client async throws in
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let id = try #require(created.body["id"]?.string)
            #expect(try await client.json(.get, "/v1/tasks/\(id)", bearer: coder).status == 200)
            #expect(try await client.json(.get, "/v1/tasks/\(id)", bearer: harness.operatorToken).status == 200)
            let hidden = try await client.json(.get, "/v1/tasks/\(id)", bearer: other)
            #expect(hidden.status == 404)
            #expect(hidden.body["error"]?.string == "not_found")
            #expect(try await client.json(.get, "/v1/tasks/tsk_nope", bearer: coder).status == 404)
        }
    }

    @Test("completing a task revokes it in the feed; later heartbeats and completions get task_closed")
    func completeTask() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let id = try #require(created.body["id"]?.string)
            #expect(try await client.json(.post, "/v1/tasks/\(id)/heartbeat", bearer: coder).status == 200)
            let completed = try await client.json(.post, "/v1/tasks/\(id)/complete", bearer: coder)
            #expect(completed.status == 200)
            #expect(completed.body["state"]?.string == "completed")
            #expect(completed.body["revocations"]?.arrayValue?.first?["id"]?.string == id)
            let again = try await client.json(.post, "/v1/tasks/\(id)/complete", bearer: coder)
            #expect(again.status == 409)
            #expect(again.body["error"]?.string == "task_closed")
            #expect(try await client.json(.post, "/v1/tasks/\(id)/heartbeat", bearer: coder).status == 409)
            let feed = try await client.json(.get, "/v1/revocations", bearer: harness.operatorToken)
            #expect(feed.body["revocations"]?.arrayValue?.map { $0["id"]?.string } == [id])
        }
    }

    @Test("an operator aborts a task; an operator cannot create one")
    func operatorAbort() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let id = try #require(created.body["id"]?.string)
            let aborted = try await client.json(.post, "/v1/tasks/\(id)/abort", bearer: harness.operatorToken)
            #expect(aborted.body["state"]?.string == "aborted")
            let refused = try await client.json(
                .post,
                "/v1/tasks",
                bearer: harness.operatorToken,
                body: Bodies.readRepository
            )
            #expect(refused.status == 403)
            #expect(refused.body["error"]?.string == "forbidden")
        }
    }

    @Test("a delegated sub-task belongs to the sub-agent and closes with its parent")
    func delegation() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let orchestrator = try harness.workload(BrokerHarness.orchestrator)
        let summarizer = try harness.workload(BrokerHarness.summarizer)
        try await harness.withClient { client async throws in
            let parent = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: Bodies.research())
            let parentID = try #require(parent.body["id"]?.string)
            let child = try await client.json(
                .post,
                "/v1/tasks",
                bearer: orchestrator,
                body: Bodies.research(parent: parentID, delegate: BrokerHarness.summarizer)
            )
            #expect(child.status == 201)
            let childID = try #require(child.body["id"]?.string)
            #expect(child.body["workload"]?.string == BrokerHarness.summarizer)
            #expect(child.body["actors"]?.arrayValue?.first?.string == BrokerHarness.orchestrator)
            #expect(try await client.json(.get, "/v1/tasks/\(childID)", bearer: summarizer).status == 200)
            let token = try await client.form(
                "/v1/token",
                Bodies.exchange(task: childID, actor: summarizer, audience: "https://docs.example.org"),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            #expect(token.status == 200)
            let closed = try await client.json(.post, "/v1/tasks/\(parentID)/complete", bearer: orchestrator)
            #expect(closed.body["tasks_closed"]?.arrayValue?.count == 2)
            let after = try await client.json(.get, "/v1/tasks/\(childID)", bearer: summarizer)
            #expect(after.body["state"]?.string == "aborted")
        }
    }

    @Test("a workload over its rate limit gets 429 with Retry-After")
    func rateLimited() async throws {
        let harness = try await BrokerHarness.make { settings in
            settings.limits.requestsPerSecond = 0.01
            settings.limits.burst = 2
        }
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            for _ in 0..<2 {
                #expect(
                    try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository).status == 201
                )
            }
            let limited = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            #expect(limited.status == 429)
            #expect(limited.body["error"]?.string == "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test("delegated sub-tasks count against the delegating workload's quota, not the delegate's")
    func quotaByCreator() async throws {
        let harness = try await BrokerHarness.make { $0.limits.openTasks = 2 }
        defer { harness.close() }
        let orchestrator = try harness.workload(BrokerHarness.orchestrator)
        let summarizer = try harness.workload(BrokerHarness.summarizer)
        try await harness.withClient { client async throws in
            let parent = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: Bodies.research())
            let parentID = parent.body["id"]?.string ?? ""
            let body = Bodies.research(parent: parentID, delegate: BrokerHarness.summarizer)
            #expect(try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: body).status == 201)
            let third = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: body)
            #expect(third.body["error"]?.string == "too_many_open_tasks")
            // The summarizer's own quota is untouched by what was delegated to it.
            let own = try await client.json(.post, "/v1/tasks", bearer: summarizer, body: Bodies.research())
            #expect(own.body["error"]?.string != "too_many_open_tasks")
        }
    }

    @Test("a workload at its open-task cap gets too_many_open_tasks until it finishes one")
    func openTaskCap() async throws {
        let harness = try await BrokerHarness.make { $0.limits.openTasks = 1 }
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let first = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let capped = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            #expect(capped.status == 429)
            #expect(capped.body["error"]?.string == "too_many_open_tasks")
            _ = try await client.json(.post, "/v1/tasks/\(first.body["id"]?.string ?? "")/complete", bearer: coder)
            #expect(try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository).status == 201)
        }
    }

    @Test("a task that misses its heartbeats, or passes its deadline, expires and is revoked")
    func expiry() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        let body = Bodies.readRepository.replacingOccurrences(
            of: "\"purpose\"",
            with: "\"heartbeat_interval\":10,\"purpose\""
        )
        let (beating, silent, short) = try await harness.withClient { client async throws in
            let beating = try await client.json(.post, "/v1/tasks", bearer: coder, body: body).body["id"]?.string
            let silent = try await client.json(.post, "/v1/tasks", bearer: coder, body: body).body["id"]?.string
            let shortBody = Bodies.readRepository.replacingOccurrences(
                of: "\"purpose\"",
                with: "\"max_duration\":60,\"purpose\""
            )
            let short = try await client.json(.post, "/v1/tasks", bearer: coder, body: shortBody).body["id"]?.string
            harness.clock.advance(by: 15)
            _ = try await client.json(.post, "/v1/tasks/\(beating ?? "")/heartbeat", bearer: coder)
            return (beating ?? "", silent ?? "", short ?? "")
        }
        harness.clock.advance(by: 10)
        #expect(try await harness.broker.tasks.expireDue() == 1)
        #expect(try await harness.broker.tasks.fetch(id: silent)?.state == .expired)
        #expect(try await harness.broker.tasks.fetch(id: beating)?.state == .open)
        harness.clock.advance(by: 40)
        let owner = WorkloadIdentity(id: try SPIFFEID(BrokerHarness.coder), attestation: .jwtSVID)
        _ = try await harness.broker.tasks.heartbeat(taskID: beating, by: .workload(owner))
        #expect(try await harness.broker.tasks.expireDue() == 1)
        #expect(try await harness.broker.tasks.fetch(id: short)?.reason == "deadline passed")
        let feed = try await harness.database.read { db in try RevocationRows.list(db, after: 0, limit: 10) }
        #expect(Set(feed.map(\.subject)) == [.task(silent), .task(short)])
    }
}

@Suite("Housekeeping")
struct HousekeepingTests {
    @Test("pruning leaves nothing behind once tokens expire and closed tasks age, and the audit stays verifiable")
    func pruneBounds() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            for _ in 0..<5 {
                let task = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
                let id = task.body["id"]?.string ?? ""
                let issued = try await client.form(
                    "/v1/token",
                    Bodies.exchange(task: id, actor: coder, audience: "https://git.example.org"),
                    headers: [HTTPField.Name("DPoP")!: try harness.proof()]
                )
                #expect(issued.status == 200)
                _ = try await client.json(.post, "/v1/tasks/\(id)/complete", bearer: coder)
            }
        }
        func counts() async throws -> [Int] {
            try await harness.database.read { db in
                try ["tokens", "tasks", "revocations"].map { table in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? -1
                }
            }
        }
        #expect(try await counts() == [5, 5, 5])
        #expect(try await harness.broker.prune(auditRetention: 86_400) == 0)
        harness.clock.advance(by: TaskService.closedTaskRetention + 700)
        #expect(try await harness.broker.prune(auditRetention: 600) > 0)
        #expect(try await counts() == [0, 0, 0])
        let audit = try await harness.database.read { db in try AuditRows.verify(db) }
        #expect(audit == nil)
    }
}
