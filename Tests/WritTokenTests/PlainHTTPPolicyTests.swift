import Foundation
import Testing
import WritToken

@Suite("plain http only to this machine, decided on the parsed host")
struct PlainHTTPPolicyTests {
    @Test(
        "hosts that only look like loopback are other hosts",
        arguments: [
            ("http://127.attacker.example:8080", "127.attacker.example"),
            ("http://127.0.0.1.evil.example:8080", "127.0.0.1.evil.example"),
            ("http://localhost.evil.example/keys", "localhost.evil.example"),
            ("http://127.0.0.1.evil.example/keys", "127.0.0.1.evil.example"),
            ("http://localhost%2eevil.example/keys", "localhost%2eevil.example"),
            ("http://[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]"),
            ("http://[::ffff:7f00:1]/", "[::ffff:7f00:1]"),
            ("http://[::2]/", "[::2]"),
            ("http://10.0.0.1:8080", "10.0.0.1"),
            ("http://128.0.0.1/", "128.0.0.1"),
            ("http://localhost./", "localhost."),
            ("http://writ.example.org", "writ.example.org"),
        ]
    )
    func otherHosts(url: String, host: String) {
        let verdict = PlainHTTPPolicy.verdict(for: url)
        guard case .plainToOtherHost(let parsed) = verdict else {
            Issue.record("\(url) gave \(verdict)")
            return
        }
        #expect(parsed.trimmingCharacters(in: ["[", "]"]) == host.trimmingCharacters(in: ["[", "]"]))
    }

    @Test(
        "loopback addresses and localhost may be spoken to in plain http",
        arguments: [
            "http://127.0.0.1:8080", "http://127.0.0.1", "http://127.255.3.4/x", "http://[::1]:8080",
            "http://[::1]/keys", "http://[0:0:0:0:0:0:0:1]:80", "http://localhost:8080/", "http://LOCALHOST",
            "HTTP://LocalHost:1/a?b#c",
        ]
    )
    func loopback(url: String) {
        #expect(PlainHTTPPolicy.verdict(for: url) == .loopback)
    }

    @Test(
        "userinfo is refused, whatever the host",
        arguments: [
            "http://localhost@evilhost.example/", "http://127.0.0.1@evil.example", "http://user:pw@127.0.0.1:8080",
            "https://user@writ.example.org", "http://@127.0.0.1/", "http://a%40b@localhost/",
        ]
    )
    func userinfo(url: String) {
        #expect(PlainHTTPPolicy.verdict(for: url) == .refused(.userinfo))
    }

    @Test(
        "numeric hosts in forms that programs read differently are refused",
        arguments: [
            "http://127.1", "http://127.1:8080/", "http://0x7f.0.0.1", "http://0x7f000001/", "http://2130706433",
            "http://0177.0.0.1", "http://127.000.000.001", "http://127.0.0.256", "https://127.1/",
        ]
    )
    func ambiguous(url: String) {
        #expect(PlainHTTPPolicy.verdict(for: url) == .refused(.ambiguousAddress))
    }

    @Test(
        "what is not an absolute http(s) URL with a host is refused",
        arguments: [
            "127.0.0.1:8080", "ftp://127.0.0.1/", "http://", "http:/127.0.0.1", "file:///etc/passwd",
            "http://127.0.0.1\\@evil.example/", "http://127.0.0.1 /", "", "javascript:alert(1)",
        ]
    )
    func notURLs(url: String) {
        #expect(PlainHTTPPolicy.verdict(for: url) == .refused(.notHTTPURL))
    }

    @Test("https is usable for any host", arguments: ["https://writ.example.org", "https://10.0.0.1:8443/x"])
    func encrypted(url: String) {
        #expect(PlainHTTPPolicy.verdict(for: url) == .encrypted)
    }

    @Test(
        "listen hosts: loopback only for 127.0.0.0/8, ::1 and localhost",
        arguments: [
            ("127.0.0.1", true), ("127.9.9.9", true), ("::1", true), ("[::1]", true), ("localhost", true),
            ("LocalHost", true), ("0.0.0.0", false), ("::", false), ("[::]", false), ("10.1.2.3", false),
            ("127.1", false), ("::ffff:127.0.0.1", false), ("localhost.example", false), ("", false),
        ]
    )
    func listenHosts(host: String, loopback: Bool) {
        #expect(PlainHTTPPolicy.isLoopback(host: host) == loopback)
    }
}
