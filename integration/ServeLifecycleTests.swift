import Foundation
import NIOHTTP1
import Testing
import WritBroker
import WritToken

#if canImport(Glibc)
import Glibc
#endif

@Suite("writ serve: policy reloads and shutdown", .timeLimit(.minutes(3)))
struct ServeLifecycleTests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let readRepository = """
        {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
        ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """
    /// Two forbids of the same length: one stops reading the repository, the other only pushing.
    static func freeze(_ action: String) -> String {
        """
        rules:
          - id: freeze-writ-demo
            effect: forbid
            when:
              workload:
                id: spiffe://example.org/agents/coding-agent
            resources:
              - type: repository
                identifiers: example-org/writ-demo
                actions: [\(action)]
        """
    }

    static func status(_ client: BrokerClient, _ assertion: String) async throws -> UInt {
        try await client.send(.POST, "/v1/tasks", bearer: assertion, json: readRepository).status
    }

    static func eventually(_ expected: UInt, _ client: BrokerClient, _ assertion: String) async throws -> Bool {
        for _ in 0..<60 {
            if try await status(client, assertion) == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("policies reload on change and on SIGHUP, a broken set is rejected, SIGTERM exits cleanly")
    func reloadAndShutdown() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        let policies = broker.stateDirectory.appendingPathComponent("policies")
        try FileManager.default.copyItem(at: BrokerProcess.policies, to: policies)
        try await broker.start(environment: [
            "WRIT_POLICIES": policies.path, "WRIT_LOG_LEVEL": "info", "WRIT_RATE_LIMIT": "10000",
        ])
        let client = BrokerClient(baseURL: broker.baseURL)
        let assertion = try broker.workloadAssertion(Self.coder)
        #expect(try await Self.status(client, assertion) == 201)

        // A new file is picked up by the watcher.
        let freeze = policies.appendingPathComponent("zz-freeze.yaml")
        try Self.freeze("read").write(to: freeze, atomically: true, encoding: .utf8)
        #expect(try await Self.eventually(403, client, assertion), "the forbid was not loaded")

        // A broken set is rejected as a whole; the forbid stays in force.
        let broken = policies.appendingPathComponent("zz-broken.yaml")
        try "rules:\n  - id: [unterminated\n".write(to: broken, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.status(client, assertion) == 403)
        #expect(try String(contentsOf: broker.logFile, encoding: .utf8).contains("policy reload rejected"))
        try FileManager.default.removeItem(at: broken)
        try await Task.sleep(for: .seconds(2))

        // The same bytes count and modification time: only SIGHUP can make the broker notice.
        // The new file gets the old one's modification time (a whole second, which survives the round trip
        // through the file system exactly) before it is renamed into place, so the watcher sees the same name,
        // size and time at every instant.
        let stamp = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 100).rounded(.down))
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: freeze.path)
        try await Task.sleep(for: .seconds(2))
        let staged = broker.stateDirectory.appendingPathComponent("staged.yaml")
        try Self.freeze("push").write(to: staged, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: staged.path)
        #expect(rename(staged.path, freeze.path) == 0)
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.status(client, assertion) == 403, "the change was noticed without SIGHUP")
        kill(try #require(broker.processIdentifier), SIGHUP)
        #expect(try await Self.eventually(201, client, assertion), "SIGHUP did not reload")
        #expect(try String(contentsOf: broker.logFile, encoding: .utf8).contains("trigger=SIGHUP"))

        await client.shutdown()
        let status = try await broker.stop()
        #expect(status == 0, "SIGTERM should end the broker cleanly")
    }
}
