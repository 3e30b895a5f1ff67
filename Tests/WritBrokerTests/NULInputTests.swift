import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritToken

@testable import WritBroker

/// A NUL character in any text a request carries is refused up front with 400, whichever store the broker
/// keeps (PostgreSQL cannot keep one; refusing it everywhere keeps both stores alike and never a 500).
@Suite("NUL characters in requests")
struct NULInputTests {
    static func task(purpose: String) -> String {
        """
        {"type":"implement-change","purpose":"\(purpose)","authorization_details":[{"type":"repository",\
        "locations":["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """
    }

    @Test("a \\u0000 escape in a JSON body or a %00 in a form is 400 invalid_request; an escaped backslash is not one")
    func refused() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let coder = try harness.workload(BrokerHarness.coder)
            let nul = try await client.json(.post, "/v1/tasks", bearer: coder, body: Self.task(purpose: #"a\u0000b"#))
            #expect(nul.status == 400)
            #expect(nul.body["error"]?.string == "invalid_request")
            #expect(nul.body["error_description"]?.string?.contains("NUL") == true)
            let literal = try await client.json(
                .post,
                "/v1/tasks",
                bearer: coder,
                body: Self.task(purpose: #"a\\u0000b"#)
            )
            #expect(literal.status == 201, "\(literal.body)")
            let form = try await client.json(
                .post,
                "/v1/token",
                body: "grant_type=client_credentials&resource=https%3A%2F%2Fa&scope=x%00y",
                contentType: "application/x-www-form-urlencoded"
            )
            #expect(form.status == 400)
            #expect(form.body["error_description"]?.string?.contains("NUL") == true)
        }
    }

    @Test("the escape scan follows escapes one by one")
    func scan() {
        func holds(_ text: String) -> Bool { RouteCall.holdsEscapedNUL(Array(text.utf8)) }
        #expect(holds(#"{"a":"\u0000"}"#))
        #expect(holds(#"{"a\u0000":1}"#))
        #expect(holds(#"["x\"\u0000"]"#))
        #expect(!holds(#"{"a":"\\u0000"}"#))
        #expect(holds(#"{"a":"\u0001\u00001"}"#))
        #expect(!holds(#"{"a":"\u1000"}"#))
        #expect(!holds(#"{"a":"\u000"#))
    }
}
