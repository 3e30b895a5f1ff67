import Testing
import WritToken

@Suite("SPIFFE IDs")
struct SPIFFEIDTests {
    @Test(
        "valid IDs parse into trust domain and path",
        arguments: [
            ("spiffe://example.org", "example.org", ""),
            ("spiffe://example.org/agents/retrieval", "example.org", "/agents/retrieval"),
            ("spiffe://prod-1.example_org/ns/default/sa/Builder.v2", "prod-1.example_org", "/ns/default/sa/Builder.v2"),
        ]
    )
    func valid(text: String, domain: String, path: String) throws {
        let id = try SPIFFEID(text)
        #expect(id.trustDomain == domain)
        #expect(id.path == path)
        #expect(id.description == text)
    }

    @Test(
        "IDs that break the rules are refused",
        arguments: [
            "", "spiffe://", "spiffe:///path", "SPIFFE://example.org", "https://example.org/a", "spiffe:/example.org",
            "spiffe://Example.org/a", "spiffe://example.org:8080/a", "spiffe://user@example.org/a",
            "spiffe://example.org/a?x=1", "spiffe://example.org/a#frag", "spiffe://example.org/",
            "spiffe://example.org//a",
            "spiffe://example.org/a/./b", "spiffe://example.org/a/../b", "spiffe://example.org/a/",
            "spiffe://exa mple.org",
            "spiffe://example.org/a%20b", "spiffe://example.org/a b", "spiffe://example.org/é", "spiffe://exa$mple.org",
            "spiffe://" + String(repeating: "a", count: 256),
            "spiffe://example.org/" + String(repeating: "a", count: 2048),
        ]
    )
    func invalid(text: String) {
        #expect(throws: SPIFFEID.ParseError.self) { try SPIFFEID(text) }
    }

    @Test("a 255-byte trust domain and a 2048-byte ID are at the limit and accepted")
    func limits() throws {
        _ = try SPIFFEID("spiffe://" + String(repeating: "a", count: 255))
        let path = "/" + String(repeating: "b", count: 2048 - "spiffe://example.org/".utf8.count)
        let id = try SPIFFEID("spiffe://example.org" + path)
        #expect(id.description.utf8.count == 2048)
    }
}
