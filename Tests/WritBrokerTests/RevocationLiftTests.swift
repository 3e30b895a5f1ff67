import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

@Suite("Lifting a revocation")
struct RevocationLiftTests {
    static let git = "https://git.example.org"
    static let dpop = HTTPField.Name("DPoP")!

    @Test("a lifted workload revocation allows new tasks and tokens; tokens issued before stay revoked")
    func liftAWorkload() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let before = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            let oldToken = try #require(before.body["access_token"]?.string)
            let oldClaims = try #require(harness.broker.tokens.verifyOwnToken(oldToken, now: harness.clock.now))

            harness.clock.advance(by: 1)
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"workload\",\"id\":\"\(BrokerHarness.coder)\"}"
            )
            let sequence = try #require(revoked.body["sequence"]?.integerValue)
            let refused = try await client.json(
                .post,
                "/v1/tasks",
                bearer: try harness.workload(BrokerHarness.coder),
                body: Bodies.readRepository
            )
            #expect(refused.status == 403)
            #expect(refused.body["error_description"]?.string?.contains("until it lapses at") == true)

            // A lift needs a reason, and lifts only workload and user entries.
            let bare = try await client.json(
                .post,
                "/v1/admin/revocations/\(sequence)/lift",
                bearer: harness.operatorToken,
                body: "{}"
            )
            #expect(bare.status == 400)
            let unknown = try await client.json(
                .post,
                "/v1/admin/revocations/9999/lift",
                bearer: harness.operatorToken,
                body: "{\"reason\":\"typo\"}"
            )
            #expect(unknown.status == 404)

            let lifted = try await client.json(
                .post,
                "/v1/admin/revocations/\(sequence)/lift",
                bearer: harness.operatorToken,
                body: "{\"reason\":\"revoked the wrong workload\"}"
            )
            #expect(lifted.status == 201)
            #expect(lifted.body["revocation"]?["kind"]?.string == "lift")
            #expect(lifted.body["revocation"]?["lifts"]?.integerValue == sequence)
            let again = try await client.json(
                .post,
                "/v1/admin/revocations/\(sequence)/lift",
                bearer: harness.operatorToken,
                body: "{\"reason\":\"twice\"}"
            )
            #expect(again.status == 200)
            #expect(again.body["sequence"] == lifted.body["sequence"])

            harness.clock.advance(by: 2)
            let assertion = try harness.workload(BrokerHarness.coder)
            let reopened = try await client.json(.post, "/v1/tasks", bearer: assertion, body: Bodies.readRepository)
            #expect(reopened.status == 201)
            let newTask = try #require(reopened.body["id"]?.string)
            let after = try await client.form(
                "/v1/token",
                Bodies.exchange(task: newTask, actor: assertion, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            #expect(after.status == 200)
            let newToken = try #require(after.body["access_token"]?.string)
            let newClaims = try #require(harness.broker.tokens.verifyOwnToken(newToken, now: harness.clock.now))

            // A verifier following the feed: the old token stays revoked, the new one is accepted.
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            let entries = try (feed.body["revocations"]?.arrayValue ?? []).map { try Revocation(json: $0) }
            let view = InMemoryRevocationView()
            view.apply(entries)
            if case .revoked = view.status(of: oldClaims, now: harness.clock.now) {
            } else {
                Issue.record("a token issued before the lift is accepted")
            }
            #expect(view.status(of: newClaims, now: harness.clock.now) == .notRevoked)
            #expect(
                try await client.form("/v1/introspect", [("token", oldToken)], bearer: harness.operatorToken)
                    .body["active"] == .bool(false)
            )
            #expect(
                try await client.form("/v1/introspect", [("token", newToken)], bearer: harness.operatorToken)
                    .body["active"] == .bool(true)
            )

            let audit = try await client.json(.get, "/v1/admin/audit?last=10", bearer: harness.operatorToken)
            let lift = audit.body["entries"]?.arrayValue?.first { $0["event"]?.string == "revocation.lifted" }
            #expect(lift?["detail"]?["reason"]?.string == "revoked the wrong workload")
        }
    }

    @Test("a task entry cannot be lifted")
    func onlyWorkloadsAndUsers() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, _) = try await TokenRouteTests.openTask(harness, client)
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"task\",\"id\":\"\(task)\"}"
            )
            let sequence = try #require(revoked.body["sequence"]?.integerValue)
            let refused = try await client.json(
                .post,
                "/v1/admin/revocations/\(sequence)/lift",
                bearer: harness.operatorToken,
                body: "{\"reason\":\"oops\"}"
            )
            #expect(refused.status == 400)
            #expect(refused.body["error"]?.string == "invalid_request")
        }
    }
}
