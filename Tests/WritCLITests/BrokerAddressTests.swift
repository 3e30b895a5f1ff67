import Foundation
import Testing

@Suite("the CLI sends the operator token in clear only to this machine")
struct BrokerAddressTests {
    static let token = "wop_notarealtokenbutshapedlikeone"

    @Test(
        "plain http to a host that only looks like loopback is refused before any connection",
        arguments: [
            "http://127.attacker.example:8080", "http://127.0.0.1.evil.example:8080", "http://localhost.evil.example",
            "http://[::ffff:127.0.0.1]:8080",
        ]
    )
    func lookalikes(url: String) async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let (status, output) = try await writ.run(
            ["tasks", "list", "--broker", url],
            environment: ["WRIT_OPERATOR_TOKEN": Self.token]
        )
        #expect(status == 2, "\(output)")
        #expect(output.contains("is not this machine"), "\(output)")
        #expect(output.contains("--insecure-http"))
        #expect(!output.contains(Self.token))
    }

    @Test(
        "userinfo and ambiguous numeric hosts are refused, even with --insecure-http",
        arguments: [
            ("http://localhost@evilhost.example:8080", "user name before @"),
            ("http://user:pw@127.0.0.1:8080", "user name before @"),
            ("https://localhost@evilhost.example", "user name before @"),
            ("http://127.1:8080", "write the address in full"),
            ("http://0x7f.0.0.1:8080", "write the address in full"),
        ]
    )
    func refused(url: String, reason: String) async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let (status, output) = try await writ.run(
            ["tasks", "list", "--insecure-http", "--broker", url],
            environment: ["WRIT_OPERATOR_TOKEN": Self.token]
        )
        #expect(status == 2, "\(output)")
        #expect(output.contains(reason), "\(output)")
    }

    @Test(
        "loopback addresses pass the check (and then find no broker: exit 3)",
        arguments: ["http://127.0.0.1:1", "http://LOCALHOST:1", "http://[::1]:1", "http://127.3.2.1:1"]
    )
    func loopback(url: String) async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let (status, output) = try await writ.run(
            ["tasks", "list", "--timeout", "2", "--broker", url],
            environment: ["WRIT_OPERATOR_TOKEN": Self.token]
        )
        #expect(status == 3, "\(output)")
    }

    @Test("a path in WRIT_OPERATOR_TOKEN is told apart: use WRIT_OPERATOR_TOKEN_FILE")
    func tokenPath() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let file = writ.path("operator-token")
        try "\(Self.token)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try await writ.run(
            ["tasks", "list", "--broker", "http://127.0.0.1:1"],
            environment: ["WRIT_OPERATOR_TOKEN": file]
        )
        #expect(status == 2, "\(output)")
        #expect(output.contains("WRIT_OPERATOR_TOKEN_FILE=\(file)"), "\(output)")
        #expect(!output.contains("workload assertion"))
        let (other, otherOutput) = try await writ.run(
            ["tasks", "list", "--broker", "http://127.0.0.1:1"],
            environment: ["WRIT_OPERATOR_TOKEN": "some-other-secret"]
        )
        #expect(other == 2)
        #expect(otherOutput.contains("start with wop_"), "\(otherOutput)")
        #expect(!otherOutput.contains("some-other-secret"), "an unusable value is not echoed")
        // The file variable takes the path.
        let (fromFile, fileOutput) = try await writ.run(
            ["tasks", "list", "--timeout", "2", "--broker", "http://127.0.0.1:1"],
            environment: ["WRIT_OPERATOR_TOKEN_FILE": file]
        )
        #expect(fromFile == 3, "\(fileOutput)")
    }
}
