import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritBroker
import WritToken

@Suite("The access table")
struct AccessTableTests {
    /// What a request without any credential gets on a row that is served: the public routes answer, the token
    /// endpoint asks for its form, every other route asks for a credential. The router's fallback (a route
    /// that is not served) would answer 404 `no such route` or 405 instead.
    static func expectedStatus(_ rule: AccessRule) -> Int {
        if rule.path == "/v1/authorize" { return 400 }
        // A status list is served to anyone, but the placeholder id names none: its handler's own 404.
        if rule.path == "/v1/status-lists/{id}" { return 404 }
        // Anyone may post a security event, but it must be one: an empty body has no media type.
        if rule.path == "/v1/ssf/events" { return 415 }
        switch rule.access {
        case .anyone: return 200
        case .tokenClient: return 415
        default: return 401
        }
    }

    @Test("every row is served by its handler, behind the authentication its access names")
    func everyRowIsServed() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let paths = AccessTable.rules.map { rule in
            (
                rule,
                rule.path.replacingOccurrences(of: "{id}", with: "tsk_x").replacingOccurrences(of: "{seq}", with: "1")
            )
        }
        try await harness.withClient { client in
            for (rule, path) in paths {
                let response = try await client.json(rule.method, path)
                #expect(
                    response.status == Self.expectedStatus(rule),
                    "\(rule.method.rawValue) \(rule.path) answered \(response.status): \(response.body)"
                )
            }
        }
    }

    @Test("a path outside the table is not served, and a known path with another method names the allowed ones")
    func outsideTheTable() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client in
            let unknown = try await client.json(.get, "/v1/nothing-here")
            #expect(unknown.status == 404)
            #expect(unknown.body["error"]?.string == "not_found")
            let wrongMethod = try await client.json(.delete, "/v1/tasks")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers[.allow] == "POST")
        }
    }
}
