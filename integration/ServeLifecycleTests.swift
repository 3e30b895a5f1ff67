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

    @Test("flags beat the environment: --listen, --tls-listen, --state-dir, --policies")
    func flagsBeatEnvironment() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("writ-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let (flagPort, environmentPort, tlsPort) = (
            try BrokerProcess.freePort(), try BrokerProcess.freePort(), try BrokerProcess.freePort()
        )
        let state = root.appendingPathComponent("state")
        let process = Process()
        process.executableURL = BrokerProcess.executable
        process.arguments = [
            "serve", "--listen", "127.0.0.1:\(flagPort)", "--tls-listen", "off", "--state-dir", state.path,
            "--policies", BrokerProcess.policies.path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["WRIT_LISTEN"] = "127.0.0.1:\(environmentPort)"
        environment["WRIT_TLS_LISTEN"] = "127.0.0.1:\(tlsPort)"
        environment["WRIT_STATE_DIR"] = root.appendingPathComponent("environment-state").path
        environment["WRIT_POLICIES"] = root.appendingPathComponent("no-policies-here").path
        environment["WRIT_LOG_LEVEL"] = "warning"
        process.environment = environment
        let log = root.appendingPathComponent("broker.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let client = BrokerClient(baseURL: "http://127.0.0.1:\(flagPort)")
        var up = false
        for _ in 0..<600 where process.isRunning {
            if (try? await client.send(.GET, "/healthz").status) == 200 {
                up = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await client.shutdown()
        #expect(up, "\(String(describing: try? String(contentsOf: log, encoding: .utf8)))")
        #expect(!BrokerProcess.accepts(port: environmentPort))
        #expect(!BrokerProcess.accepts(port: tlsPort), "--tls-listen off beats WRIT_TLS_LISTEN")
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("operator-token").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("environment-state").path))
        process.terminate()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(process.terminationStatus == 0)
    }
}
