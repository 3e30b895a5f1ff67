import Testing
import WritToken

@testable import WritPolicy

/// The `audiences` of policy files: implicit task defaults and scope mappings per resource server.
@Suite("Audiences in policy files")
struct AudienceTests {
    static let tools = """
        audiences:
          - location: https://tools.example.org/mcp
            implicit_task: { type: call-tools, purpose: calls tools }
            scopes:
              tools:search: { type: tool, identifier: search, actions: call }
              tools:all: { type: tool, identifier: "admin/*", actions: [call, list] }
        """

    static func diagnostics(_ sources: [(String, String)]) -> [String] {
        guard case .failure(let errors) = PolicyLoader.load(sources: sources) else { return [] }
        return errors.diagnostics.map(\.description)
    }

    @Test("a file may declare audiences alone; scopes map to details at the audience, in order, once each")
    func mapping() throws {
        guard case .success(let set) = PolicyLoader.load(sources: [("tools.yaml", Self.tools)]) else {
            Issue.record("the audiences did not load")
            return
        }
        let audience = try #require(set.audiences["https://tools.example.org/mcp"])
        #expect(audience.implicitTaskType == "call-tools")
        #expect(audience.implicitPurpose == "calls tools")
        #expect(set.scopeValues == ["tools:all", "tools:search"])
        let details = try audience.details(forScope: "tools:search  tools:all tools:search")
        #expect(details.map(\.identifier) == ["search", "admin/*"])
        #expect(details.allSatisfy { $0.locations == ["https://tools.example.org/mcp"] && $0.type == "tool" })
        #expect(details[1].actions == ["call", "list"])
        #expect(audience.scope(for: details) == "tools:search tools:all")
        #expect(audience.scope(for: [AuthorizationDetail(type: "tool", actions: ["x"])]) == nil)
        #expect(throws: UnmappedScope(value: "tools:delete")) {
            try audience.details(forScope: "tools:search tools:delete")
        }
    }

    @Test(
        "mistakes are reported with their place and what to do",
        arguments: [
            ("audiences:\n  - implicit_task: { type: t }\n", "needs a 'location'"),
            ("audiences:\n  - location: https://a\n", "declares nothing"),
            ("audiences:\n  - location: https://a\n    scope: {}\n", "unknown key 'scope'"),
            ("audiences:\n  - location: https://a\n    implicit_task: { purpose: p }\n", "needs a 'type'"),
            (
                "audiences:\n  - location: https://a\n    scopes:\n      \"a b\": { type: t, actions: x }\n",
                "not a scope value"
            ),
            ("audiences:\n  - location: https://a\n    scopes:\n      s: { actions: x }\n", "scope 's' needs a 'type'"),
            ("audiences:\n  - location: https://a\n    scopes:\n      s: { type: t }\n", "scope 's' needs 'actions'"),
            ("audiences: 3\n", "audiences must be a list"),
            (
                "audiences:\n  - location: https://a\n    scopes:\n      s: { type: t, identifier: a/../b, actions: x }\n",
                "plain segments only"
            ),
            ("other: 1\n", "unknown key 'other'"),
            ("{}\n", "needs a 'rules' list"),
        ]
    )
    func mistakes(text: String, expected: String) {
        let found = Self.diagnostics([("a.yaml", text)])
        #expect(found.contains { $0.contains(expected) }, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("a.yaml:") })
    }

    @Test("an audience declared in two files is refused, naming the first")
    func duplicate() {
        let found = Self.diagnostics([("a.yaml", Self.tools), ("b.yaml", Self.tools)])
        #expect(found.count == 1)
        #expect(found.first?.contains("declared twice; first at a.yaml:2") == true, "\(found)")
    }

    @Test("detail types some permit grants are listed for the metadata; forbids add none")
    func permittedTypes() {
        let text = """
            rules:
              - id: p
                effect: permit
                resources:
                  - { type: tool, locations: https://a, actions: call }
                  - { type: document, locations: https://a, actions: read }
              - id: f
                effect: forbid
                resources:
                  - { type: secret, actions: read }
            """
        guard case .success(let set) = PolicyLoader.load(sources: [("a.yaml", text)]) else {
            Issue.record("the rules did not load")
            return
        }
        #expect(set.permittedTypes == ["document", "tool"])
    }

    @Test("a subset asked for at the token endpoint: bytes decide type-specific members; the same prefix/* is within")
    func within() {
        let granted = AuthorizationDetail(
            type: "payment",
            actions: ["pay", "read"],
            locations: ["https://pay"],
            identifier: "accounts/*",
            extensions: ["account": .string("Zo\u{00EB}")]
        )
        func asking(_ identifier: String, _ account: String, actions: [String] = ["pay"]) -> AuthorizationDetail {
            AuthorizationDetail(
                type: "payment",
                actions: actions,
                locations: ["https://pay"],
                identifier: identifier,
                extensions: ["account": .string(account)]
            )
        }
        #expect(asking("accounts/1", "Zo\u{00EB}").isWithin([granted]))
        #expect(asking("accounts/*", "Zo\u{00EB}").isWithin([granted]))
        // The same text in another normal form (e + combining diaeresis) is equal to Swift, not in bytes.
        #expect(!asking("accounts/1", "Zoe\u{0308}").isWithin([granted]))
        #expect(!asking("accounts", "Zo\u{00EB}").isWithin([granted]))
        #expect(!asking("accounts/1", "Zo\u{00EB}", actions: ["pay", "refund"]).isWithin([granted]))
        #expect(!asking("accounts/1", "Zo\u{00EB}", actions: []).isWithin([granted]))
    }
}
