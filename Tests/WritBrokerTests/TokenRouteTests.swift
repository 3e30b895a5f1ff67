import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@testable import WritBroker

@Suite("Token exchange, introspection and holder revocation")
struct TokenRouteTests {
    static let git = "https://git.example.org"
    static let dpop = HTTPField.Name("DPoP")!

    /// Creates a coding task and returns its id and the workload's assertion.
    static func openTask(_ harness: BrokerHarness, _ client: any TestClientProtocol) async throws -> (String, String) {
        let coder = try harness.workload(BrokerHarness.coder)
        let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
        return (try #require(created.body["id"]?.string), coder)
    }

    @Test("a DPoP-bound token is issued for an open task and verifies with WritVerifier against the JWKS")
    func issueAndVerify() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await Self.openTask(harness, client)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            #expect(issued.status == 200)
            #expect(issued.body["token_type"]?.string == "DPoP")
            #expect(issued.body["issued_token_type"]?.string == TokenRequest.accessTokenType)
            #expect(issued.body["expires_in"]?.integerValue ?? 0 > 290)
            let token = try #require(issued.body["access_token"]?.string)
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            let keys = try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(jwks.body)))
            let view = InMemoryRevocationView()
            let verifier = TokenVerifier(
                configuration: .init(issuer: BrokerHarness.issuer, audience: Self.git),
                keys: StaticKeySet(keys),
                revocations: view,
                clock: harness.clock
            )
            let url = "https://git.example.org/repos/example-org/writ-demo"
            let proof = try DPoPProof.create(
                method: "GET",
                url: url,
                key: harness.dpopKey,
                accessToken: token,
                issuedAt: harness.clock.now
            )
            let access = try verifier.verify(
                Presentation(authorization: "DPoP \(token)", dpopProof: proof, method: "GET", url: url)
            )
            #expect(access.claims.taskID == task)
            #expect(access.claims.clientID.description == BrokerHarness.coder)
            #expect(access.claims.purpose == "fix a bug")
            #expect(throws: VerificationError.proofRequired("")) {
                try verifier.verify(Presentation(authorization: "Bearer \(token)", method: "GET", url: url))
            }
            let record = try await harness.database.read { db in
                try TokenRows.fetch(db, id: access.claims.tokenID)
            }
            #expect(record?.binding.hasPrefix("dpop:") == true)
        }
    }

    @Test(
        "malformed token requests get RFC 6749 errors",
        arguments: [
            ("grant_type=password", 400, "unsupported_grant_type"),
            ("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange", 400, "invalid_request"),
            ("grant_type=a&grant_type=b", 400, "invalid_request"),
            ("grant_type=%ZZ", 400, "invalid_request"),
            ("", 400, "invalid_request"),
        ]
    )
    func malformed(body: String, status: Int, code: String) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let response = try await client.json(
                .post,
                "/v1/token",
                body: body,
                contentType: "application/x-www-form-urlencoded"
            )
            #expect(response.status == status)
            #expect(response.body["error"]?.string == code)
        }
    }

    @Test("token requests that name the wrong thing are refused with the matching error")
    func refusals() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await Self.openTask(harness, client)
            var proof = HTTPFields()
            proof[Self.dpop] = try harness.proof()
            let withProof = proof
            func code(_ fields: [(String, String)], _ headers: HTTPFields = withProof) async throws -> String? {
                try await client.form("/v1/token", fields, headers: headers).body["error"]?.string
            }
            #expect(
                try await code(Bodies.exchange(task: task, actor: coder, audience: "https://elsewhere.example"))
                    == "invalid_target"
            )
            #expect(
                try await code(Bodies.exchange(task: task, actor: coder, audience: Self.git), [:])
                    == "invalid_dpop_proof"
            )
            #expect(
                try await code(Bodies.exchange(task: task, actor: coder, audience: Self.git), [Self.dpop: "x.y.z"])
                    == "invalid_dpop_proof"
            )
            let assistant = try harness.workload(BrokerHarness.assistant)
            #expect(
                try await code(Bodies.exchange(task: task, actor: assistant, audience: Self.git)) == "invalid_grant"
            )
            #expect(
                try await code(Bodies.exchange(task: "tsk_missing", actor: coder, audience: Self.git))
                    == "invalid_grant"
            )
            #expect(try await code(Bodies.exchange(task: task, actor: "bad", audience: Self.git)) == "invalid_request")
            var withClientID = Bodies.exchange(task: task, actor: coder, audience: Self.git)
            withClientID.append(("client_id", "some-oauth-library"))
            let ignored = try await client.form("/v1/token", withClientID, headers: [Self.dpop: try harness.proof()])
            #expect(ignored.status == 200, "unknown parameters are ignored (RFC 6749 §3.2)")
            var withScope = Bodies.exchange(task: task, actor: coder, audience: Self.git)
            withScope.append(("scope", "everything"))
            #expect(try await code(withScope) == "invalid_scope", "no scope is mapped at the git server")
            _ = try await client.json(.post, "/v1/tasks/\(task)/complete", bearer: coder)
            #expect(try await code(Bodies.exchange(task: task, actor: coder, audience: Self.git)) == "invalid_grant")
        }
    }

    @Test("a token never outlives its task's deadline")
    func lifetimeCappedByDeadline() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await Self.openTask(harness, client)
            harness.clock.advance(by: 3600 - 100)
            let fresh = try harness.workload(BrokerHarness.coder)
            _ = coder
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: fresh, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            let expiresIn = try #require(issued.body["expires_in"]?.integerValue)
            #expect(expiresIn <= 100)
            #expect(expiresIn >= 98)
        }
    }

    @Test("a retrieval task for a user carries the user as sub; another user's assertion is refused")
    func userTasks() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let assistant = try harness.workload(BrokerHarness.assistant)
        let alice = try harness.user("alice", department: "hr")
        let bob = try harness.user("bob", department: "hr")
        try await harness.withClient { client async throws in
            let body = """
                {"type":"answer-question","user_assertion":"\(alice)","authorization_details":[{"type":"document",\
                "locations":["https://docs.example.org"],"identifier":"departments/hr/handbook/leave","actions":["read"]}]}
                """
            let created = try await client.json(.post, "/v1/tasks", bearer: assistant, body: body)
            #expect(created.body["user"]?.string == "alice")
            let task = try #require(created.body["id"]?.string)
            var fields = Bodies.exchange(task: task, actor: assistant, audience: "https://docs.example.org")
            fields += [("subject_token", alice), ("subject_token_type", TokenRequest.idTokenType)]
            let issued = try await client.form("/v1/token", fields, headers: [Self.dpop: try harness.proof()])
            let token = try #require(issued.body["access_token"]?.string)
            #expect(try AccessToken.unverifiedClaims(token).subject == "alice")
            var wrong = Bodies.exchange(task: task, actor: assistant, audience: "https://docs.example.org")
            wrong += [("subject_token", bob), ("subject_token_type", TokenRequest.idTokenType)]
            let refused = try await client.form("/v1/token", wrong, headers: [Self.dpop: try harness.proof()])
            #expect(refused.body["error"]?.string == "invalid_grant")
            let otherDepartment = body.replacingOccurrences(of: "departments/hr", with: "departments/finance")
            let denied = try await client.json(.post, "/v1/tasks", bearer: assistant, body: otherDepartment)
            #expect(denied.status == 403)
            #expect(denied.body["reasons"]?.arrayValue?.first?["code"]?.string == "not_covered")
        }
    }

    @Test("introspection says active for a live token and inactive once revoked; only operators may ask")
    func introspection() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await Self.openTask(harness, client)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            let token = try #require(issued.body["access_token"]?.string)
            let live = try await client.form("/v1/introspect", [("token", token)], bearer: harness.operatorToken)
            #expect(live.body["active"] == .bool(true))
            #expect(live.body["txn"]?.string == task)
            #expect(
                try await client.form("/v1/introspect", [("token", "x")], bearer: harness.operatorToken).body["active"]
                    == .bool(false)
            )
            #expect(try await client.form("/v1/introspect", [("token", token)]).status == 401)
            #expect(try await client.form("/v1/introspect", [("token", token)], bearer: coder).status == 403)
            #expect(
                try await client.form("/v1/introspect", [("token", token)], bearer: "wop_bogus_secret").status == 401
            )
            let revoked = try await client.form("/v1/revoke", [("token", token)], bearer: coder)
            #expect(revoked.status == 200)
            let dead = try await client.form("/v1/introspect", [("token", token)], bearer: harness.operatorToken)
            #expect(dead.body["active"] == .bool(false))
            let feed = try await client.json(.get, "/v1/revocations", bearer: harness.operatorToken)
            #expect(feed.body["revocations"]?.arrayValue?.first?["kind"]?.string == "token")
        }
    }

    @Test("RFC 7009: revoking another workload's token answers 200 and revokes nothing")
    func holderRevocationOfOthers() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await Self.openTask(harness, client)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [Self.dpop: try harness.proof()]
            )
            let token = try #require(issued.body["access_token"]?.string)
            let other = try harness.workload(BrokerHarness.assistant)
            #expect(try await client.form("/v1/revoke", [("token", token)], bearer: other).status == 200)
            #expect(
                try await client.json(.get, "/v1/revocations", bearer: harness.operatorToken).body["last"]?.integerValue
                    == 0
            )
        }
    }
}

@Suite("DPoP nonces")
struct DPoPNonceTests {
    @Test("with nonces required, a proof without the broker's nonce gets use_dpop_nonce and the nonce to use")
    func nonces() async throws {
        let harness = try await BrokerHarness.make { $0.requireDPoPNonces = true }
        defer { harness.close() }
        let coder = try harness.workload(BrokerHarness.coder)
        let dpop = HTTPField.Name("DPoP")!
        let nonceHeader = HTTPField.Name("DPoP-Nonce")!
        try await harness.withClient { client async throws in
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let task = created.body["id"]?.string ?? ""
            let fields = Bodies.exchange(task: task, actor: coder, audience: "https://git.example.org")
            let first = try await client.form("/v1/token", fields, headers: [dpop: try harness.proof()])
            #expect(first.status == 400)
            #expect(first.body["error"]?.string == "use_dpop_nonce")
            let nonce = try #require(first.headers[nonceHeader])
            let proof = try DPoPProof.create(
                method: "POST",
                url: BrokerHarness.issuer + "/v1/token",
                key: harness.dpopKey,
                nonce: nonce,
                issuedAt: harness.clock.now
            )
            let second = try await client.form("/v1/token", fields, headers: [dpop: proof])
            #expect(second.status == 200)
            #expect(second.headers[nonceHeader] != nil)
            let stale = try DPoPProof.create(
                method: "POST",
                url: BrokerHarness.issuer + "/v1/token",
                key: harness.dpopKey,
                nonce: "made-up",
                issuedAt: harness.clock.now
            )
            #expect(
                try await client.form("/v1/token", fields, headers: [dpop: stale]).body["error"]?.string
                    == "use_dpop_nonce"
            )
        }
    }
}
