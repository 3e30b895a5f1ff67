import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WritTestSupport
import WritToken

@testable import WritBroker

@Suite("Admin revocations, the feed, discovery")
struct AdminAndFeedRouteTests {
    @Test("revoking a workload aborts its tasks and refuses new ones with `revoked`")
    func revokeWorkload() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        try await harness.withClient { client async throws in
            let task = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"workload\",\"id\":\"\(BrokerHarness.coder)\"}"
            )
            #expect(revoked.status == 201)
            #expect(revoked.body["tasks_closed"]?.arrayValue?.count == 1)
            #expect(revoked.body["sequence"]?.integerValue == 1)
            let after = try await client.json(.get, "/v1/tasks/\(task.body["id"]?.string ?? "")", bearer: coder)
            #expect(after.body["state"]?.string == "aborted")
            let refused = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            #expect(refused.status == 403)
            #expect(refused.body["error"]?.string == "revoked")
        }
    }

    @Test(
        "every kind of operator revocation is accepted and lands in the feed in order",
        arguments: [
            "{\"kind\":\"user\",\"id\":\"alice\"}",
            "{\"kind\":\"issued_before\",\"before\":1700000000}",
            "{\"kind\":\"issued_before\",\"before\":1700000000,\"workload\":\"spiffe://example.org/a\"}",
        ]
    )
    func revokeKinds(body: String) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            for expected in 1...2 {
                let response = try await client.json(
                    .post,
                    "/v1/admin/revocations",
                    bearer: harness.operatorToken,
                    body: body
                )
                #expect(response.status == 201)
                #expect(response.body["sequence"]?.integerValue == Int64(expected))
            }
        }
    }

    @Test(
        "bad revocation requests get a stable 4xx code",
        arguments: [
            ("{\"kind\":\"planet\",\"id\":\"x\"}", 400, "invalid_request"),
            ("{\"kind\":\"workload\",\"id\":\"not-spiffe\"}", 400, "invalid_request"),
            ("{\"kind\":\"task\"}", 400, "invalid_request"),
            ("{\"kind\":\"task\",\"id\":\"tsk_missing\"}", 404, "not_found"),
            ("{\"kind\":\"token\",\"id\":\"missing\"}", 404, "not_found"),
            ("{\"kind\":\"user\",\"id\":\"a\",\"extra\":true}", 400, "invalid_request"),
            ("{\"kind\":\"issued_before\"}", 400, "invalid_request"),
        ]
    )
    func revokeMalformed(body: String, status: Int, code: String) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let response = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: body
            )
            #expect(response.status == status)
            #expect(response.body["error"]?.string == code)
        }
    }

    @Test("the admin API refuses workloads, introspect-only operators and bad operator tokens")
    func adminAccess() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let introspector = try await harness.broker.operators.create(
            name: "resource-server",
            role: .introspect,
            now: harness.clock.now
        )
        let coder = try harness.workload(BrokerHarness.coder)
        let body = "{\"kind\":\"user\",\"id\":\"alice\"}"
        try await harness.withClient { client async throws in
            #expect(try await client.json(.post, "/v1/admin/revocations", bearer: coder, body: body).status == 403)
            #expect(
                try await client.json(.post, "/v1/admin/revocations", bearer: introspector, body: body).status == 403
            )
            let last = harness.operatorToken.last == "A" ? "B" : "A"
            let tampered = String(harness.operatorToken.dropLast()) + last
            #expect(try await client.json(.post, "/v1/admin/revocations", bearer: tampered, body: body).status == 401)
            #expect(try await client.json(.post, "/v1/admin/revocations", body: body).status == 401)
        }
    }

    @Test("the feed pages after a sequence number, says whether more follow, and refuses one it never reached")
    func feedPaging() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        for index in 0..<5 { _ = try await harness.broker.revocations.revoke(.user("user-\(index)"), by: "test") }
        try await harness.withClient { client async throws in
            let first = try await client.json(.get, "/v1/revocations?after=0&limit=2", bearer: harness.operatorToken)
            #expect(first.body["revocations"]?.arrayValue?.compactMap { $0["seq"]?.integerValue } == [1, 2])
            #expect(first.body["has_more"] == .bool(true))
            let rest = try await client.json(.get, "/v1/revocations?after=2&limit=100", bearer: harness.operatorToken)
            #expect(rest.body["revocations"]?.arrayValue?.compactMap { $0["seq"]?.integerValue } == [3, 4, 5])
            #expect(rest.body["has_more"] == .bool(false))
            #expect(rest.body["last"]?.integerValue == 5)
            #expect(
                try await client.json(.get, "/v1/revocations?after=-1", bearer: harness.operatorToken).body["error"]?
                    .string
                    == "invalid_request"
            )
            #expect(
                try await client.json(.get, "/v1/revocations?after=5", bearer: harness.operatorToken).status == 200,
                "resuming at the last entry"
            )
            // A resume point this feed never reached (a verifier that followed a restored or another database) is
            // refused, on the page and on the stream, rather than skipping this feed's entries up to it.
            let beyond = try await client.json(.get, "/v1/revocations?after=6", bearer: harness.operatorToken)
            #expect(beyond.status == 400)
            #expect(beyond.body["error_description"]?.string?.contains("start again from 0") == true, "\(beyond.body)")
            let stream = try await client.execute(
                uri: "/v1/revocations/stream",
                method: .get,
                headers: [HTTPField.Name("Last-Event-ID")!: "9", .authorization: "Bearer \(harness.operatorToken)"]
            )
            #expect(stream.status == .badRequest)
            #expect(harness.broker.feed.subscriberCount == 0)
        }
    }

    @Test(
        "the stream resumes after Last-Event-ID, sends each entry once with its id, then heartbeats",
        .timeLimit(.minutes(1))
    )
    func stream() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        for index in 0..<3 { _ = try await harness.broker.revocations.revoke(.user("user-\(index)"), by: "test") }
        let broker = harness.broker
        let text = try await harness.withClient { client async throws in
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    let response = try await client.execute(
                        uri: "/v1/revocations/stream",
                        method: .get,
                        headers: [
                            HTTPField.Name("Last-Event-ID")!: "1", .authorization: "Bearer \(harness.operatorToken)",
                        ]
                    )
                    #expect(response.headers[.contentType] == "text/event-stream")
                    return String(buffer: response.body)
                }
                group.addTask {
                    // The stream authenticates its caller first (an operator token: Argon2id), so wait until it
                    // has subscribed; finishing the feed before that would leave it open for ever.
                    try await harness.untilSubscribed()
                    try await Task.sleep(for: .milliseconds(300))
                    _ = try await broker.revocations.revoke(.user("late"), by: "test")
                    try await Task.sleep(for: .milliseconds(300))
                    await broker.feed.publish(logger: broker.logger)
                    try await Task.sleep(for: .milliseconds(300))
                    broker.feed.finishAll()
                    return nil
                }
                var result = ""
                for try await value in group { if let value { result = value } }
                return result
            }
        }
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }
        #expect(ids == ["id: 2", "id: 3", "id: 4"])
        #expect(text.contains("event: heartbeat"))
        #expect(text.components(separatedBy: "event: heartbeat").count >= 3)
    }

    @Test("discovery documents, health and metrics are served to anyone")
    func discovery() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let metadata = try await client.json(.get, "/.well-known/oauth-authorization-server")
            #expect(metadata.body["issuer"]?.string == BrokerHarness.issuer)
            #expect(metadata.body["token_endpoint"]?.string == BrokerHarness.issuer + "/v1/token")
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            #expect(jwks.body["keys"]?.arrayValue?.first?["kid"]?.string == harness.broker.keys.current.active.id)
            #expect(try await client.json(.get, "/healthz").body["status"]?.string == "ok")
            let bundle = try await client.json(.get, "/.well-known/spiffe-bundle")
            #expect(bundle.body["keys"]?.arrayValue?.first?["use"]?.string == "jwt-svid")
            #expect(bundle.body["keys"]?.arrayValue?.first?["kid"]?.string == harness.broker.keys.current.active.id)
            #expect(bundle.body["spiffe_refresh_hint"]?.integerValue == 300)
            _ = try await client.json(.post, "/v1/tasks", body: Bodies.readRepository)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            let metrics = try await client.execute(
                uri: "/metrics",
                method: .get,
                headers: [.authorization: "Bearer \(harness.operatorToken)"]
            )
            let exposition = String(buffer: metrics.body)
            #expect(exposition.contains("writ_http_request_duration_seconds"))
            #expect(exposition.contains("route=\"/v1/tasks\""))
            #expect(!exposition.contains("tsk_"))
        }
    }

    @Test("unknown routes and methods get a JSON error, never a default page")
    func unknownRoutes() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let missing = try await client.json(.get, "/v1/nothing")
            #expect(missing.status == 404)
            #expect(missing.body["error"]?.string == "not_found")
            let wrongMethod = try await client.json(.delete, "/v1/tasks")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.body["error"]?.string == "method_not_allowed")
            #expect(wrongMethod.headers[.allow] == "POST")
            let wrongOnTemplate = try await client.json(.put, "/v1/tasks/tsk_1")
            #expect(wrongOnTemplate.status == 405)
            #expect(wrongOnTemplate.headers[.allow] == "GET")
        }
    }
}

@Suite("Revocation edges")
struct RevocationEdgeTests {
    @Test("revoking a workload also closes the sub-tasks it delegated to others")
    func workloadRevocationCascades() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let orchestrator = try harness.workload(BrokerHarness.orchestrator)
        let summarizer = try harness.workload(BrokerHarness.summarizer)
        try await harness.withClient { client async throws in
            let parent = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: Bodies.research())
            let parentID = parent.body["id"]?.string ?? ""
            let child = try await client.json(
                .post,
                "/v1/tasks",
                bearer: orchestrator,
                body: Bodies.research(parent: parentID, delegate: BrokerHarness.summarizer)
            )
            let childID = child.body["id"]?.string ?? ""
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"workload\",\"id\":\"\(BrokerHarness.orchestrator)\"}"
            )
            #expect(revoked.body["tasks_closed"]?.arrayValue?.count == 2)
            let after = try await client.json(.get, "/v1/tasks/\(childID)", bearer: summarizer)
            #expect(after.body["state"]?.string == "aborted")
            let token = try await client.form(
                "/v1/token",
                Bodies.exchange(task: childID, actor: summarizer, audience: "https://docs.example.org"),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            #expect(token.body["error"]?.string == "invalid_grant")
        }
    }

    @Test("an issued-before revocation in the future is refused")
    func futureCutoff() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let future = harness.clock.now.addingTimeInterval(86_400).numericDate
        for before in [future, Int64.max] {
            await #expect(throws: BrokerError(.invalidRequest, "")) {
                _ = try await harness.broker.revocations.revoke(
                    .issuedBefore(Date(timeIntervalSince1970: TimeInterval(before)), workload: nil),
                    by: "test"
                )
            }
        }
        try await harness.withClient { client async throws in
            let response = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"issued_before\",\"before\":9223372036854775807}"
            )
            #expect(response.status == 400)
            #expect(response.body["error"]?.string == "invalid_request")
        }
    }

    @Test("the feed is never pruned past what the broker's own view has applied")
    func pruneBoundedByView() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let stale = harness.clock.now.addingTimeInterval(-10)
        _ = try await harness.database.write { db in
            for index in 0..<3 {
                _ = try RevocationRows.insert(
                    db,
                    .token("t\(index)"),
                    revokedAt: stale,
                    retainUntil: stale,
                    actor: "test"
                )
            }
        }
        // The view has not caught up with these three yet: pruning must leave them.
        #expect(harness.broker.feed.lastSequence == 0)
        _ = try await harness.broker.prune(auditRetention: 86_400)
        let left = try await harness.database.read { db in try RevocationRows.list(db, after: 0, limit: 10) }
        #expect(left.count == 3)
        await harness.broker.feed.publish(logger: harness.broker.logger)
        _ = try await harness.broker.prune(auditRetention: 86_400)
        let after = try await harness.database.read { db in try RevocationRows.list(db, after: 0, limit: 10) }
        #expect(after.isEmpty)
    }
}
