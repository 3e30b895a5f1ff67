import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken

/// Resource servers are principals: the feed, its stream and introspection are theirs and operators', not
/// anyone's.
@Suite("Resource servers as principals")
struct ResourceServerTests {
    @Test("the feed refuses anonymous callers and unregistered workloads, and serves resource servers and operators")
    func feedAccess() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let introspector = try await harness.broker.operators.create(
            name: "docs-introspect",
            role: .introspect,
            now: harness.clock.now
        )
        let scraper = try await harness.broker.operators.create(
            name: "scraper",
            role: .metrics,
            now: harness.clock.now
        )
        try await harness.withClient { client async throws in
            for path in ["/v1/revocations", "/v1/revocations/stream"] {
                let anonymous = try await client.json(.get, path)
                #expect(anonymous.status == 401, "\(path)")
                let agent = try await client.json(.get, path, bearer: try harness.workload(BrokerHarness.coder))
                #expect(agent.status == 403, "\(path)")
                #expect(agent.body["error_description"]?.string?.contains("resource_servers") == true)
                #expect(try await client.json(.get, path, bearer: scraper).status == 403, "\(path)")
            }
            let service = try harness.workload(BrokerHarness.documentsService)
            #expect(try await client.json(.get, "/v1/revocations", bearer: service).status == 200)
            #expect(try await client.json(.get, "/v1/revocations", bearer: introspector).status == 200)
            #expect(try await client.json(.get, "/v1/revocations", bearer: harness.operatorToken).status == 200)

            // /metrics is for the metrics role (or admin), and that role may do nothing else.
            let metrics = try await client.execute(
                uri: "/metrics",
                method: .get,
                headers: [.authorization: "Bearer \(scraper)"]
            )
            #expect(metrics.status == .ok)
            #expect(try await client.json(.get, "/v1/admin/tasks", bearer: scraper).status == 403)
            #expect(try await client.json(.get, "/metrics", bearer: service).status == 403)
        }
    }

    @Test("a resource server introspects only tokens for its own audience")
    func introspectionByAudience() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let orchestrator = try harness.workload(BrokerHarness.orchestrator)
            let created = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: Bodies.research())
            let task = try #require(created.body["id"]?.string)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: orchestrator, audience: BrokerHarness.documentsAudience),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            let documentsToken = try #require(issued.body["access_token"]?.string)
            let (codingTask, coder) = try await TokenRouteTests.openTask(harness, client)
            let gitIssued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: codingTask, actor: coder, audience: TokenRouteTests.git),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            let gitToken = try #require(gitIssued.body["access_token"]?.string)

            let service = try harness.workload(BrokerHarness.documentsService)
            let own = try await client.form("/v1/introspect", [("token", documentsToken)], bearer: service)
            #expect(own.status == 200)
            #expect(own.body["active"] == .bool(true))
            #expect(own.body["aud"]?.string == BrokerHarness.documentsAudience)
            let other = try await client.form("/v1/introspect", [("token", gitToken)], bearer: service)
            #expect(other.body == .object(["active": .bool(false)]))
            // An operator sees both.
            let operatorView = try await client.form(
                "/v1/introspect",
                [("token", gitToken)],
                bearer: harness.operatorToken
            )
            #expect(operatorView.body["active"] == .bool(true))
        }
    }

    @Test("one caller cannot take every stream slot")
    func streamsPerCaller() async throws {
        let harness = try await BrokerHarness.make { $0.limits.streamsPerCaller = 2 }
        defer { harness.close() }
        let feed = harness.broker.feed
        let first = try #require(feed.subscribe(owner: BrokerHarness.documentsService, limit: 2))
        let second = try #require(feed.subscribe(owner: BrokerHarness.documentsService, limit: 2))
        #expect(feed.subscribe(owner: BrokerHarness.documentsService, limit: 2) == nil)
        let other = try #require(feed.subscribe(owner: "someone-else", limit: 2))
        try await harness.withClient { client async throws in
            let service = try harness.workload(BrokerHarness.documentsService)
            let refused = try await client.json(.get, "/v1/revocations/stream", bearer: service)
            #expect(refused.status == 503)
            #expect(refused.body["error"]?.string == "temporarily_unavailable")
            #expect(refused.headers[.retryAfter] != nil)
        }
        for id in [first.id, second.id, other.id] { feed.unsubscribe(id) }
        #expect(feed.subscriberCount == 0)
    }
}
