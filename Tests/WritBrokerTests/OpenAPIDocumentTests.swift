import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritAPI
import WritBroker
import WritPolicy
import WritTestSupport
import WritToken
import Yams

/// Keeps `docs/openapi.yaml` true: the same routes and access as the broker's table, the same error and
/// denial codes, and response bodies that carry what the document says they carry.
@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    static var document: [String: Any] {
        get throws {
            let url = BrokerHarness.policyDirectory.deletingLastPathComponent().appendingPathComponent(
                "docs/openapi.yaml"
            )
            let text = try String(contentsOf: url, encoding: .utf8)
            return try #require(try Yams.load(yaml: text) as? [String: Any])
        }
    }

    static func operations() throws -> [String: [String: Any]] {
        let paths = try #require(try document["paths"] as? [String: [String: Any]])
        var operations: [String: [String: Any]] = [:]
        for (path, item) in paths {
            for (method, operation) in item where method != "parameters" {
                operations["\(method.uppercased()) \(path)"] = try #require(operation as? [String: Any])
            }
        }
        return operations
    }

    static func accessName(_ access: Access) -> String {
        switch access {
        case .anyone: return "anyone"
        case .tokenClient: return "token-client"
        case .workload: return "workload"
        case .workloadOrAdmin: return "workload-or-admin"
        case .operator(let roles): return "operator(\(roles.map(\.rawValue).joined(separator: ",")))"
        case .resourceServer: return "resource-server"
        case .resourceServerOrOperator(let roles):
            return "resource-server-or-operator(\(roles.map(\.rawValue).joined(separator: ",")))"
        }
    }

    @Test("the document lists exactly the routes of the access table, with the same access")
    func routes() throws {
        let operations = try Self.operations()
        let served = Set(AccessTable.rules.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Set(operations.keys) == served)
        for rule in AccessTable.rules {
            let documented = operations["\(rule.method.rawValue) \(rule.path)"]?["x-writ-access"] as? String
            #expect(documented == Self.accessName(rule.access), "\(rule.method.rawValue) \(rule.path)")
        }
    }

    @Test("the document's error and denial codes are exactly the broker's")
    func codes() throws {
        let schemas = try #require((try Self.document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let error = try #require(schemas["Error"] as? [String: Any])
        let errorCodes = ((error["properties"] as? [String: Any])?["error"] as? [String: Any])?["enum"] as? [String]
        #expect(Set(errorCodes ?? []) == Set(BrokerError.Code.all.map(\.rawValue)))
        let denial = try #require(schemas["DenialReason"] as? [String: Any])
        let denialCodes = ((denial["properties"] as? [String: Any])?["code"] as? [String: Any])?["enum"] as? [String]
        #expect(Set(denialCodes ?? []) == Set(DenialReason.Code.all.map(\.rawValue)))
    }

    @Test("responses carry the members the document requires, with documented status codes")
    func responses() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let operations = try Self.operations()
        let schemas = try #require((try Self.document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let coder = try harness.workload(BrokerHarness.coder)
        let observed: [Observation] = try await harness.withClient { client async throws in
            var observed: [Observation] = []
            func check(_ operation: String, _ status: Int, _ body: JSONValue, schema: String?, element: Bool = false) {
                observed.append(
                    Observation(operation: operation, status: status, body: body, schema: schema, element: element)
                )
            }
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            check("POST /v1/tasks", created.status, created.body, schema: "Task")
            let id = created.body["id"]?.string ?? ""
            let denied = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.pushMain)
            check("POST /v1/tasks", denied.status, denied.body, schema: "Error")
            let fetched = try await client.json(.get, "/v1/tasks/\(id)", bearer: coder)
            check("GET /v1/tasks/{id}", fetched.status, fetched.body, schema: "Task")
            let beat = try await client.json(.post, "/v1/tasks/\(id)/heartbeat", bearer: coder)
            check("POST /v1/tasks/{id}/heartbeat", beat.status, beat.body, schema: "Task")
            let token = try await client.form(
                "/v1/token",
                Bodies.exchange(task: id, actor: coder, audience: "https://git.example.org"),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            check("POST /v1/token", token.status, token.body, schema: "TokenResponse")
            let badToken = try await client.form("/v1/token", [("grant_type", "password")])
            check("POST /v1/token", badToken.status, badToken.body, schema: "Error")
            let introspected = try await client.form(
                "/v1/introspect",
                [("token", token.body["access_token"]?.string ?? "")],
                bearer: harness.operatorToken
            )
            check("POST /v1/introspect", introspected.status, introspected.body, schema: nil)
            let admin = harness.operatorToken
            let tasks = try await client.json(.get, "/v1/admin/tasks?state=open", bearer: admin)
            check("GET /v1/admin/tasks", tasks.status, tasks.body, schema: nil)
            for task in tasks.body["tasks"]?.arrayValue ?? [] {
                check("GET /v1/admin/tasks", 200, task, schema: "Task", element: true)
                #expect(task["live_tokens"] == .integer(1))
            }
            let badFilter = try await client.json(.get, "/v1/admin/tasks?state=done", bearer: admin)
            check("GET /v1/admin/tasks", badFilter.status, badFilter.body, schema: "Error")
            let tree = try await client.json(.get, "/v1/admin/tasks/\(id)", bearer: admin)
            check("GET /v1/admin/tasks/{id}", tree.status, tree.body, schema: nil)
            for token in tree.body["tokens"]?.arrayValue ?? [] {
                check("GET /v1/admin/tasks/{id}", 200, token, schema: "IssuedToken", element: true)
            }
            let missing = try await client.json(.get, "/v1/admin/tasks/tsk_nope", bearer: admin)
            check("GET /v1/admin/tasks/{id}", missing.status, missing.body, schema: "Error")
            let asWorkload = try await client.json(.get, "/v1/admin/workloads", bearer: coder)
            check("GET /v1/admin/workloads", asWorkload.status, asWorkload.body, schema: "Error")
            let workloads = try await client.json(.get, "/v1/admin/workloads", bearer: admin)
            check("GET /v1/admin/workloads", workloads.status, workloads.body, schema: nil)
            let keys = try await client.json(.get, "/v1/admin/keys", bearer: admin)
            check("GET /v1/admin/keys", keys.status, keys.body, schema: nil)
            for key in keys.body["keys"]?.arrayValue ?? [] {
                check("GET /v1/admin/keys", 200, key, schema: "SigningKey", element: true)
            }
            let audit = try await client.json(.get, "/v1/admin/audit?last=5", bearer: admin)
            check("GET /v1/admin/audit", audit.status, audit.body, schema: nil)
            #expect(audit.body["entries"]?.arrayValue?.count == 5)
            for entry in audit.body["entries"]?.arrayValue ?? [] {
                check("GET /v1/admin/audit", 200, entry, schema: "AuditEntry", element: true)
            }
            let verified = try await client.json(.get, "/v1/admin/audit/verify", bearer: admin)
            check("GET /v1/admin/audit/verify", verified.status, verified.body, schema: nil)
            #expect(verified.body["intact"] == .bool(true))
            let halfAnchor = try await client.json(
                .get,
                "/v1/admin/audit/verify?anchor_hash=\(String(repeating: "0", count: 64))",
                bearer: admin
            )
            check("GET /v1/admin/audit/verify", halfAnchor.status, halfAnchor.body, schema: "Error")
            #expect(halfAnchor.status == 400)
            let completed = try await client.json(.post, "/v1/tasks/\(id)/complete", bearer: coder)
            check("POST /v1/tasks/{id}/complete", completed.status, completed.body, schema: "Closure")
            let again = try await client.json(.post, "/v1/tasks/\(id)/abort", bearer: coder)
            check("POST /v1/tasks/{id}/abort", again.status, again.body, schema: "Error")
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"user\",\"id\":\"alice\"}"
            )
            check("POST /v1/admin/revocations", revoked.status, revoked.body, schema: "RevocationOutcome")
            let page = try await client.json(.get, "/v1/revocations", bearer: harness.operatorToken)
            check("GET /v1/revocations", page.status, page.body, schema: "RevocationPage")
            for entry in page.body["revocations"]?.arrayValue ?? [] {
                check("GET /v1/revocations", 200, entry, schema: "Revocation", element: true)
            }
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            check("GET /.well-known/jwks.json", jwks.status, jwks.body, schema: "JWKS")
            let own = try await client.form("/v1/revoke", [("token", "whatever")], bearer: coder)
            check("POST /v1/revoke", own.status, own.body, schema: nil)
            return observed
        }
        Self.readStrictly(observed)
        for observation in observed {
            let operation = observation.operation
            let responses = operations[operation]?["responses"] as? [String: Any] ?? [:]
            #expect(
                responses["\(observation.status)"] != nil,
                "\(operation) answered \(observation.status), undocumented"
            )
            guard let schema = observation.schema, let definition = schemas[schema] as? [String: Any] else { continue }
            for member in definition["required"] as? [String] ?? [] {
                #expect(
                    observation.body[member] != nil,
                    "\(operation) \(observation.status): \(schema).\(member) missing"
                )
            }
        }
    }

    struct Observation: Sendable {
        let operation: String
        let status: Int
        let body: JSONValue
        let schema: String?
        /// An element of a body's list, not a whole body.
        var element = false
    }

    @Test("the wire types' routes are exactly the access table's")
    func wireRoutes() {
        let served = Set(AccessTable.rules.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Set(WireRoutes.all.map { "\($0.method) \($0.path)" }) == served)
    }

    /// Every whole body observed is read strictly (a member the type lacks is refused) as its route's wire type
    /// for that status, or as the error body, and written back to the same JSON: the types are the wire.
    static func readStrictly(_ observed: [Observation]) {
        for observation in observed where !observation.element {
            let parts = observation.operation.split(separator: " ", maxSplits: 1).map(String.init)
            guard let route = WireRoutes.route(parts[0], parts[1]) else {
                Issue.record("no wire route for \(observation.operation)")
                continue
            }
            let type: any WireValue.Type
            if observation.status >= 400 {
                type = ErrorResponse.self
            } else if case .json(let answer)? = route.responses[observation.status] {
                type = answer
            } else {
                continue
            }
            do {
                let decoded = try type.init(json: observation.body, mode: .request)
                #expect(
                    decoded.json == observation.body,
                    "\(observation.operation) \(observation.status): \(type) writes a different body"
                )
            } catch {
                Issue.record("\(observation.operation) \(observation.status): \(type): \(error)")
            }
        }
    }
}
