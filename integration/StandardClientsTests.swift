import Foundation
import MCP
import Testing
import WritAgent
import WritAgentMCP
import WritBroker
import WritPolicy
import WritTestSupport
import WritToken

#if canImport(Glibc)
import Glibc
#endif

/// Writ in front of an MCP server, used by software nobody here wrote: the Python `mcp` SDK's private-key-JWT
/// client, Authlib's OAuth2Session and its RFC 8414 validator, PyJWT; and by the swift-sdk client through
/// WritAgentMCP. Every process runs on loopback and is stopped whether the test passes or not.
@Suite("Standard clients: MCP and OAuth libraries", .serialized, .timeLimit(.minutes(4)))
struct StandardClientsTests {
    static let agentID = "spiffe://example.org/agents/support-agent"
    static let toolsID = "spiffe://example.org/services/tools"
    /// Where the example policies put the example MCP server; the tests move it to their own port.
    static let exampleResource = "http://127.0.0.1:8092/mcp"

    static var scripts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python")
    }

    /// A broker whose policies and resource servers name the MCP server at `resource`, and that server.
    final class Deployment: @unchecked Sendable {
        let broker: BrokerProcess
        let port: Int
        let mcp = Process()
        var resource: String { "http://127.0.0.1:\(port)/mcp" }
        var directory: URL { broker.stateDirectory }

        init() async throws {
            broker = try BrokerProcess()
            port = try LoopbackPort.free()
            let policies = broker.stateDirectory.appendingPathComponent("policies")
            try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
            for file in try PolicyLoader.files(in: BrokerProcess.policies) {
                let text = try String(contentsOf: file, encoding: .utf8)
                    .replacingOccurrences(
                        of: StandardClientsTests.exampleResource,
                        with: "http://127.0.0.1:\(port)/mcp"
                    )
                try text.write(
                    to: policies.appendingPathComponent(file.lastPathComponent),
                    atomically: true,
                    encoding: .utf8
                )
            }
            try await broker.start(
                environment: ["WRIT_POLICIES": policies.path],
                configuration: """
                    development: true
                    resource_servers:
                      - audience: http://127.0.0.1:\(port)/mcp
                        workloads: [\(StandardClientsTests.toolsID)]
                    """
            )
            let credential = broker.stateDirectory.appendingPathComponent("tools.jwt")
            try broker.workloadAssertion(StandardClientsTests.toolsID).write(
                to: credential,
                atomically: true,
                encoding: .utf8
            )
            mcp.executableURL = BrokerProcess.executable.deletingLastPathComponent()
                .appendingPathComponent("writ-example-mcp")
            var environment = ProcessInfo.processInfo.environment
            environment["WRIT_BROKER"] = broker.baseURL
            environment["LISTEN"] = "127.0.0.1:\(port)"
            environment["FEED_CREDENTIAL_FILE"] = credential.path
            environment["MAXIMUM_STALENESS"] = "3"
            mcp.environment = environment
            let log = broker.stateDirectory.appendingPathComponent("mcp.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            mcp.standardOutput = try FileHandle(forWritingTo: log)
            mcp.standardError = mcp.standardOutput
            try mcp.run()
            for _ in 0..<200 where !BrokerProcess.accepts(port: port) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// A JWT-SVID for a workload, in a file of the deployment's directory.
        func assertionFile(_ id: String) throws -> URL {
            let file = directory.appendingPathComponent("\(UUID().uuidString).jwt")
            try broker.workloadAssertion(id).write(to: file, atomically: true, encoding: .utf8)
            return file
        }

        func stop() async {
            mcp.terminate()
            while mcp.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            _ = try? await broker.stop()
            broker.remove()
        }
    }

    /// Runs `body` with a deployment, stopping it whether `body` succeeds or not.
    static func withDeployment(_ body: (Deployment) async throws -> Void) async throws {
        let deployment = try await Deployment()
        do {
            try await body(deployment)
        } catch {
            await deployment.stop()
            throw error
        }
        await deployment.stop()
    }

    /// A Python script started with its output going to a file, killed if it outlives the test.
    final class Script: @unchecked Sendable {
        let process = Process()
        let output: URL

        init(_ name: String, _ arguments: [String], in directory: URL) throws {
            output = directory.appendingPathComponent("\(name)-\(UUID().uuidString).out")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", StandardClientsTests.scripts.appendingPathComponent(name).path] + arguments
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = process.standardOutput
            try process.run()
        }

        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        /// The JSON objects printed so far, one per line.
        var lines: [[String: JSONValue]] {
            text.split(separator: "\n").compactMap { try? StrictJSON().parse(String($0)).objectValue }
        }

        /// Waits until a printed line has `step` == `step`, or the script ends, or 60 s pass.
        func wait(forStep step: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, process.isRunning,
                !lines.contains(where: { $0["step"]?.stringValue == step })
            {
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// Waits for the end (60 s at most, then kills it) and returns the exit status.
        func finish() async throws -> Int32 {
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            }
            return process.terminationStatus
        }
    }

    @Test("the Python mcp SDK's private-key-JWT client discovers the server, gets a token and calls allowed tools only")
    func pythonMCPClient() async throws {
        try await Self.withDeployment { deployment in
            let go = deployment.directory.appendingPathComponent("go")
            let script = try Script(
                "mcp_client.py",
                [
                    deployment.resource, deployment.broker.baseURL, Self.agentID,
                    try deployment.assertionFile(Self.agentID).path, go.path,
                ],
                in: deployment.directory
            )
            try await script.wait(forStep: "waiting")
            let revoked = try await WritRunner(broker: deployment.broker).run(["revoke", "workload", Self.agentID])
            #expect(revoked.status == 0, "\(revoked.stderr)")
            FileManager.default.createFile(atPath: go.path, contents: nil)
            _ = try await script.finish()
            let steps = Dictionary(
                script.lines.compactMap { line in line["step"]?.stringValue.map { ($0, line) } },
                uniquingKeysWith: { first, _ in first }
            )
            #expect(
                steps["list"]?["tools"] == .array([.string("read_document"), .string("search")]),
                "\(script.text)"
            )
            #expect(steps["search"]?["error"] == .bool(false))
            #expect(steps["search"]?["text"]?.stringValue?.contains("public/faq/refunds") == true, "\(script.text)")
            #expect(steps["read"]?["text"]?.stringValue == "Refunds are paid within 14 days.")
            #expect(steps["email"]?["refused"] == .bool(true), "\(script.text)")
            // After the revocation the server refuses the token, and the broker refuses the client a new one.
            let after = steps["after-revocation"] ?? steps["stopped"]
            #expect(after?["refused"] == .bool(true) || after?["detail"]?.stringValue?.contains("revoked") == true)
            #expect(steps["after-revocation"]?["refused"] != .bool(false), "\(script.text)")
        }
    }

    @Test("Authlib validates the metadata, obtains, introspects and revokes a token with no header set by hand")
    func authlib() async throws {
        try await Self.withDeployment { deployment in
            let script = try Script(
                "authlib_client.py",
                [
                    deployment.broker.baseURL, deployment.resource, Self.agentID,
                    try deployment.assertionFile(Self.agentID).path, Self.toolsID,
                    try deployment.assertionFile(Self.toolsID).path,
                ],
                in: deployment.directory
            )
            let status = try await script.finish()
            #expect(status == 0, "\(script.text)")
            let out = try #require(script.lines.last, "\(script.text)")
            #expect(out["metadata_valid"] == .bool(true))
            #expect(out["token_type"]?.stringValue == "Bearer")
            #expect(out["active"] == .bool(true))
            #expect(out["pyjwt_txn"] == out["task"])
            #expect(out["mcp_before"] == .integer(200))
            #expect(out["revoke_status"] == .integer(200))
            #expect(out["active_after"] == .bool(false))
            #expect(out["mcp_after"] == .integer(401))
            // The implicit task is listed like any other.
            let task = try #require(out["task"]?.stringValue)
            let listed = try await WritRunner(broker: deployment.broker).run(["tasks", "list"])
            let row = listed.stdout.split(separator: "\n").first { $0.contains(task) }
            #expect(row?.contains("call-tools (implicit)") == true, "\(listed.stdout)")
        }
    }

    @Test("WritAgentMCP gives the swift-sdk client a transport that carries the task's DPoP-bound token")
    func swiftClient() async throws {
        try await Self.withDeployment { deployment in
            let assertion = try deployment.broker.workloadAssertion(Self.agentID)
            let agent = WritAgent(
                configuration: .init(broker: deployment.broker.baseURL, identity: .jwt { assertion })
            )
            let resource = deployment.resource
            let details = ["search", "read_document"].map {
                AuthorizationDetail(type: "tool", actions: ["call"], locations: [resource], identifier: $0)
            }
            do {
                try await agent.withTask(AgentTaskDescriptor(type: "call-tools", authorizationDetails: details)) {
                    task in
                    let client = MCP.Client(name: "writ-test", version: "1.0.0")
                    _ = try await client.connect(transport: task.mcpTransport(endpoint: URL(string: resource)!))
                    let tools = try await client.listTools().tools.map(\.name).sorted()
                    #expect(tools == ["read_document", "search"])
                    let found = try await client.callTool(name: "search", arguments: ["query": "ship"])
                    #expect(found.isError != true)
                    #expect("\(found.content)".contains("public/faq/shipping"))
                    await #expect(throws: (any Error).self) {
                        _ = try await client.callTool(name: "send_email", arguments: ["to": "a@example.org"])
                    }
                    await client.disconnect()
                }
            } catch {
                await agent.shutdown()
                throw error
            }
            await agent.shutdown()
        }
    }
}
