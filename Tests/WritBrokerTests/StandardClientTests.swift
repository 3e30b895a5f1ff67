import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritAPI
import WritTestSupport
import WritToken

@testable import WritBroker

/// The token endpoint as stock OAuth and MCP clients use it: RFC 7523 grants and client authentication with the
/// workload's identity JWT, implicit tasks from `resource` with `authorization_details` or `scope`, the grant
/// narrowed by `authorization_details` (RFC 9396 §6), and client assertions at introspection and revocation.
@Suite("Standard clients at the token endpoint")
struct StandardClientTests {
    static let tools = "http://127.0.0.1:8092/mcp"
    static let supportAgent = "spiffe://example.org/agents/support-agent"
    static let toolsServer = "spiffe://example.org/services/tools"
    static let assertionType = TokenEndpointForm.jwtBearerAssertionType

    static func harness() async throws -> BrokerHarness {
        try await BrokerHarness.make { settings in
            settings.resourceServers = ResourceServerRegistry([
                ResourceServer(
                    audience: BrokerHarness.documentsAudience,
                    workloads: [try! SPIFFEID(BrokerHarness.documentsService)]
                ),
                ResourceServer(audience: tools, workloads: [try! SPIFFEID(toolsServer)]),
            ])
        }
    }

    static func clientCredentials(_ assertion: String, _ extra: [(String, String)]) -> [(String, String)] {
        [
            ("grant_type", "client_credentials"), ("client_assertion_type", assertionType),
            ("client_assertion", assertion), ("resource", tools),
        ] + extra
    }

    static func details(_ tools: String...) -> String {
        "[" + tools.map { #"{"type":"tool","identifier":"\#($0)","actions":["call"]}"# }.joined(separator: ",") + "]"
    }

    @Test("client_credentials with the workload JWT as client_assertion makes an implicit task for one bearer token")
    func implicitTaskByDetails() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            let issued = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("authorization_details", Self.details("search"))])
            )
            #expect(issued.status == 200, "\(issued.body)")
            #expect(issued.body["token_type"]?.string == "Bearer")
            let token = try #require(issued.body["access_token"]?.string)
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            #expect(claims.audience == Self.tools)
            #expect(claims.authorizationDetails.map(\.identifier) == ["search"])
            let task = try #require(try await harness.broker.tasks.fetch(id: claims.taskID))
            #expect(task.implicit)
            #expect(task.type == "call-tools")
            #expect(task.purpose == "calls tools for an MCP client")
            #expect(task.state == .open)
            #expect(abs(task.deadline.timeIntervalSince(claims.expiresAt)) < 1)
            // The operators' task list shows it like any other.
            let listed = try await client.json(.get, "/v1/admin/tasks", bearer: harness.operatorToken)
            let ids = listed.body["tasks"]?.arrayValue?.compactMap { $0["id"]?.string } ?? []
            #expect(ids.contains(claims.taskID))
            // One token per implicit task: naming it for another is refused.
            let again = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("task_id", claims.taskID)])
            )
            #expect(again.body["error"]?.string == "invalid_grant")
            let named = try await client.form(
                "/v1/token",
                Self.clientCredentials(
                    agent,
                    [("task_id", claims.taskID), ("authorization_details", Self.details("search"))]
                )
            )
            #expect(named.body["error"]?.string == "invalid_grant")
        }
    }

    @Test("a refused request leaves no implicit task open, and an implicit task has no sub-tasks")
    func noOrphans() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            func open() async throws -> Int {
                var filter = TaskFilter()
                filter.state = .open
                return try await harness.broker.tasks.list(matching: filter).count
            }
            let badProof = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("scope", "tools:search")]),
                headers: [HTTPField.Name("DPoP")!: "x.y.z"]
            )
            #expect(badProof.body["error"]?.string == "invalid_dpop_proof")
            #expect(try await open() == 0)
            let issued = try await client.form("/v1/token", Self.clientCredentials(agent, [("scope", "tools:search")]))
            let token = try #require(issued.body["access_token"]?.string)
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            #expect(try await open() == 1)
            let child = try await client.json(
                .post,
                "/v1/tasks",
                bearer: agent,
                body: """
                    {"type":"call-tools","parent":"\(claims.taskID)","authorization_details":[{"type":"tool",\
                    "locations":["\(Self.tools)"],"identifier":"search","actions":["call"]}]}
                    """
            )
            #expect(child.body["error"]?.string == "invalid_grant", "\(child.body)")
            // Form client authentication is for introspection and revocation only.
            let elsewhere = try await client.form(
                "/v1/tasks/\(claims.taskID)/complete",
                [("client_assertion_type", Self.assertionType), ("client_assertion", agent)]
            )
            #expect(elsewhere.status == 401)
        }
    }

    @Test("scope values map through the policy files; ones the policy refuses are dropped and the rest granted")
    func implicitTaskByScope() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            let both = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("scope", "tools:search tools:send_email tools:read_document")])
            )
            #expect(both.status == 200, "\(both.body)")
            #expect(both.body["scope"]?.string == "tools:search tools:read_document")
            let token = try #require(both.body["access_token"]?.string)
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            #expect(claims.authorizationDetails.compactMap(\.identifier) == ["search", "read_document"])
            // The dropped value's denial is on the record.
            let denied = try await harness.broker.audit.entries(after: 0, limit: 100).filter {
                $0.event == "task.denied"
            }
            #expect(denied.count == 1)

            let refused = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("scope", "tools:send_email")])
            )
            #expect(refused.status == 400)
            #expect(refused.body["error"]?.string == "invalid_scope")
            #expect(refused.body["reasons"]?.arrayValue?.isEmpty == false)
            let refusedDetails = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("authorization_details", Self.details("send_email"))])
            )
            #expect(refusedDetails.body["error"]?.string == "invalid_authorization_details")
            let unmapped = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [("scope", "tools:delete")])
            )
            #expect(unmapped.status == 400)
            #expect(unmapped.body["error"]?.string == "invalid_scope")
            let malformed = try await client.form("/v1/token", Self.clientCredentials(agent, [("scope", "a\"b")]))
            #expect(malformed.body["error"]?.string == "invalid_scope")
            let nowhere = try await client.form(
                "/v1/token",
                [
                    ("grant_type", "client_credentials"), ("client_assertion_type", Self.assertionType),
                    ("client_assertion", agent), ("resource", "https://unmapped.example"), ("scope", "read"),
                ]
            )
            #expect(nowhere.body["error"]?.string == "invalid_scope")
            let both2 = try await client.form(
                "/v1/token",
                Self.clientCredentials(
                    agent,
                    [("scope", "tools:search"), ("authorization_details", Self.details("search"))]
                )
            )
            #expect(both2.body["error"]?.string == "invalid_request")
        }
    }

    @Test("RFC 7523's jwt-bearer grant takes the workload JWT as assertion")
    func jwtBearerGrant() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            let issued = try await client.form(
                "/v1/token",
                [
                    ("grant_type", TokenEndpointForm.jwtBearerGrantType), ("assertion", agent),
                    ("resource", Self.tools), ("scope", "tools:read_document"),
                ]
            )
            #expect(issued.status == 200, "\(issued.body)")
            #expect(issued.body["scope"]?.string == "tools:read_document")
            let forged = try await client.form(
                "/v1/token",
                [
                    ("grant_type", TokenEndpointForm.jwtBearerGrantType), ("assertion", agent + "x"),
                    ("resource", Self.tools), ("scope", "tools:read_document"),
                ]
            )
            #expect(forged.body["error"]?.string == "invalid_grant")
        }
    }

    @Test("a client assertion that does not verify, or a client_id that is not the workload, is invalid_client")
    func invalidClient() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            let scope = ("scope", "tools:search")
            let forged = try await client.form("/v1/token", Self.clientCredentials(agent + "x", [scope]))
            #expect(forged.status == 401)
            #expect(forged.body["error"]?.string == "invalid_client")
            let otherClient = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [scope, ("client_id", "spiffe://example.org/agents/someone-else")])
            )
            #expect(otherClient.body["error"]?.string == "invalid_client")
            let sameClient = try await client.form(
                "/v1/token",
                Self.clientCredentials(agent, [scope, ("client_id", Self.supportAgent)])
            )
            #expect(sameClient.status == 200)
            let wrongType = try await client.form(
                "/v1/token",
                [
                    ("grant_type", "client_credentials"), ("client_assertion_type", "urn:example:other"),
                    ("client_assertion", agent), ("resource", Self.tools), scope,
                ]
            )
            #expect(wrongType.body["error"]?.string == "invalid_client")
            let none = try await client.form(
                "/v1/token",
                [("grant_type", "client_credentials"), ("resource", Self.tools), scope]
            )
            #expect(none.status == 401)
            #expect(none.body["error"]?.string == "invalid_client")
        }
    }

    @Test("authorization_details at the token endpoint narrows a task's grant to a subset for one token")
    func narrowing() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let coder = try harness.workload(BrokerHarness.coder)
            let created = try await client.json(
                .post,
                "/v1/tasks",
                bearer: coder,
                body: """
                    {"type":"implement-change","authorization_details":[{"type":"repository",\
                    "locations":["https://git.example.org"],"identifier":"example-org/writ-demo",\
                    "actions":["read","open_pull_request"]}]}
                    """
            )
            let task = try #require(created.body["id"]?.string)
            func request(_ details: String) async throws -> (status: Int, body: JSONValue, headers: HTTPFields) {
                try await client.form(
                    "/v1/token",
                    Bodies.exchange(task: task, actor: coder, audience: "https://git.example.org")
                        + [("authorization_details", details)],
                    headers: [HTTPField.Name("DPoP")!: try harness.proof()]
                )
            }
            let narrower = try await request(
                #"[{"type":"repository","identifier":"example-org/writ-demo","actions":["read"]}]"#
            )
            #expect(narrower.status == 200, "\(narrower.body)")
            let token = try #require(narrower.body["access_token"]?.string)
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            #expect(claims.authorizationDetails.count == 1)
            #expect(claims.authorizationDetails.first?.actions == ["read"])
            #expect(narrower.body["authorization_details"]?.arrayValue?.count == 1)
            let wider = try await request(
                #"[{"type":"repository","identifier":"example-org/writ-demo","actions":["read","push"]}]"#
            )
            #expect(wider.body["error"]?.string == "invalid_authorization_details")
            let another = try await request(
                #"[{"type":"repository","identifier":"example-org/payments","actions":["read"]}]"#
            )
            #expect(another.body["error"]?.string == "invalid_authorization_details")
            let elsewhere = try await request(
                #"[{"type":"repository","locations":["https://other.example"],"identifier":"example-org/writ-demo","actions":["read"]}]"#
            )
            #expect(elsewhere.body["error"]?.string == "invalid_authorization_details")
            let notJSON = try await request("[{read")
            #expect(notJSON.body["error"]?.string == "invalid_request")
            let notArray = try await request(#"{"type":"repository"}"#)
            #expect(notArray.body["error"]?.string == "invalid_request")
            let empty = try await request("[]")
            #expect(empty.body["error"]?.string == "invalid_request")

        }
    }

    @Test(
        "introspection and RFC 7009 revocation take the client assertion in the form; revoking ends the implicit task"
    )
    func introspectAndRevokeByClientAssertion() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let agent = try harness.workload(Self.supportAgent)
            let issued = try await client.form("/v1/token", Self.clientCredentials(agent, [("scope", "tools:search")]))
            let token = try #require(issued.body["access_token"]?.string)
            let server = try harness.workload(Self.toolsServer)
            let asServer = [("client_assertion_type", Self.assertionType), ("client_assertion", server)]
            let live = try await client.form("/v1/introspect", [("token", token)] + asServer)
            #expect(live.status == 200, "\(live.body)")
            #expect(live.body["active"] == .bool(true))
            let forged = try await client.form(
                "/v1/introspect",
                [("token", token), ("client_assertion_type", Self.assertionType), ("client_assertion", server + "x")]
            )
            #expect(forged.status == 401)
            #expect(forged.body["error"]?.string == "invalid_client")
            // One authentication method per request (RFC 6749 §2.3), and only the jwt-bearer assertion type.
            let twice = try await client.form("/v1/introspect", [("token", token)] + asServer, bearer: server)
            #expect(twice.status == 400)
            #expect(twice.body["error"]?.string == "invalid_request")
            let otherType = try await client.form(
                "/v1/revoke",
                [("token", token), ("client_assertion_type", "urn:example:other"), ("client_assertion", agent)]
            )
            #expect(otherType.status == 401)
            #expect(otherType.body["error"]?.string == "invalid_client")
            // A workload that is no resource server may not introspect, however it authenticates.
            let byAgent = try await client.form(
                "/v1/introspect",
                [("token", token), ("client_assertion_type", Self.assertionType), ("client_assertion", agent)]
            )
            #expect(byAgent.status == 403)

            let revoked = try await client.form(
                "/v1/revoke",
                [
                    ("token", token), ("token_type_hint", "access_token"),
                    ("client_assertion_type", Self.assertionType),
                    ("client_assertion", agent),
                ]
            )
            #expect(revoked.status == 200)
            let after = try await client.form("/v1/introspect", [("token", token)] + asServer)
            #expect(after.body["active"] == .bool(false))
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            let task = try #require(try await harness.broker.tasks.fetch(id: claims.taskID))
            #expect(task.state != .open)
        }
    }

    @Test(
        "the metadata lists the grants, client authentication, detail types and scopes; the authorization endpoint issues nothing"
    )
    func metadata() async throws {
        let harness = try await Self.harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let metadata = try await client.json(.get, "/.well-known/oauth-authorization-server")
            let document = try AuthorizationServerMetadata(json: metadata.body, mode: .response)
            #expect(document.authorizationEndpoint == BrokerHarness.issuer + "/v1/authorize")
            #expect(Set(document.grantTypesSupported) == Set(TokenRequest.grantTypes))
            #expect(document.tokenEndpointAuthMethodsSupported == ["private_key_jwt"])
            #expect(document.tokenEndpointAuthSigningAlgValuesSupported.contains("ES256"))
            #expect(document.responseTypesSupported == ["none"])
            #expect(document.authorizationDetailsTypesSupported.contains("tool"))
            #expect(document.authorizationDetailsTypesSupported.contains("repository"))
            #expect(document.scopesSupported?.contains("tools:search") == true)
            let authorize = try await client.json(.get, "/v1/authorize?response_type=code&client_id=x")
            #expect(authorize.status == 400)
            #expect(authorize.body["error"]?.string == "unsupported_response_type")
        }
    }
}
