import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import WritTestSupport
import WritToken

#if canImport(Glibc)
import Glibc
#endif

/// Revocation signals read by software nobody here wrote: a resource server in Python (PyJWT, and a status-list
/// check written from the draft) stops accepting a token once its task completes, within the list's `ttl`; a
/// Shared Signals poll receiver in Python gets the completed task's session-revoked event, and none for a task
/// of another audience.
@Suite("Standard signals from Python", .serialized, .timeLimit(.minutes(3)))
struct StatusListTests {
    static let agentID = "spiffe://example.org/agents/support-agent"
    static let audience = "http://127.0.0.1:8092/mcp"
    static let ttl = 2

    @Test("a Python resource server refuses a completed task's bearer token within the status list's ttl")
    func pythonRefusesCompletedTask() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start(environment: ["WRIT_STATUS_LIST_TTL": String(Self.ttl)])
        let client = BrokerClient(baseURL: broker.baseURL)
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        var server: StandardClientsTests.Script?
        do {
            let metadata = try await client.send(.GET, "/.well-known/oauth-authorization-server")
            let issuer = try #require(metadata.body.objectValue?["issuer"]?.stringValue)
            let agent = try broker.workloadAssertion(Self.agentID)
            let (taskID, issued) = try await Self.toolsTask(client, agent: agent)
            #expect(issued.body.objectValue?["token_type"]?.stringValue == "Bearer", "\(issued.body)")
            let token = try #require(issued.body.objectValue?["access_token"]?.stringValue)

            let port = try LoopbackPort.free()
            let script = try StandardClientsTests.Script(
                "status_list_server.py",
                [issuer, Self.audience, String(port)],
                in: broker.stateDirectory
            )
            server = script
            try await script.wait(forStep: "listening")
            func ask() async throws -> (UInt, String) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/tools")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
                return (response.status.code, body)
            }
            let before = try await ask()
            #expect(before.0 == 200, "\(before.1) \(script.text)")

            let completed = try await client.send(.POST, "/v1/tasks/\(taskID)/complete", bearer: agent)
            #expect(completed.status == 200)
            let acknowledged = ContinuousClock.now
            var refusal: (UInt, String)?
            while ContinuousClock.now - acknowledged < .seconds(Self.ttl + 5) {
                let answer = try await ask()
                if answer.0 != 200 {
                    refusal = answer
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let elapsed = ContinuousClock.now - acknowledged
            let refused = try #require(refusal, "still accepted \(elapsed) after completion: \(script.text)")
            #expect(refused.0 == 401 && refused.1.contains("\"revoked\""), "\(refused.1)")
            // The server may have fetched the list just before the completion: it sees the bit at its next fetch.
            #expect(elapsed < .seconds(Self.ttl) + .milliseconds(1500), "refused only after \(elapsed)")
            #expect(script.lines.contains { $0["step"]?.stringValue == "fetched" && $0["ttl"]?.integerValue == 2 })
        } catch {
            await Self.stop(server, client, http, broker)
            throw error
        }
        await Self.stop(server, client, http, broker)
    }

    @Test("a Python SSF poll receiver gets a signed session-revoked event for a completed task of its audience only")
    func pythonPollReceiver() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        let receiver = Self.receiver
        try await broker.start(configuration: Self.receiverConfiguration(pushPort: nil))
        let client = BrokerClient(baseURL: broker.baseURL)
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        var script: StandardClientsTests.Script?
        do {
            let (issuer, credential) = try await Self.receiverCredential(broker, client)
            let running = try StandardClientsTests.Script(
                "ssf_poll_receiver.py",
                [issuer, credential.path, receiver],
                in: broker.stateDirectory
            )
            script = running
            try await running.wait(forStep: "stream")
            let stream = try #require(running.lines.first { $0["step"]?.stringValue == "stream" }, "\(running.text)")
            #expect(stream["anonymous"]?.integerValue == 401)

            // A task of another audience completes first: no event for this receiver.
            let coder = try broker.workloadAssertion("spiffe://example.org/agents/coding-agent")
            let other = try await client.send(
                .POST,
                "/v1/tasks",
                bearer: coder,
                json: """
                    {"type": "implement-change", "authorization_details": [{"type": "repository",
                     "locations": ["https://git.example.org"], "identifier": "example-org/writ-demo",
                     "actions": ["read"]}]}
                    """
            )
            let otherID = try #require(other.body.objectValue?["id"]?.stringValue, "\(other.body)")
            #expect(try await client.token(task: otherID, actor: coder).status == 200)
            #expect(try await client.send(.POST, "/v1/tasks/\(otherID)/complete", bearer: coder).status == 200)

            let agent = try broker.workloadAssertion(Self.agentID)
            let (taskID, issued) = try await Self.toolsTask(client, agent: agent)
            #expect(issued.status == 200, "\(issued.body)")
            #expect(try await client.send(.POST, "/v1/tasks/\(taskID)/complete", bearer: agent).status == 200)

            #expect(try await running.finish() == 0, "\(running.text)")
            let outcome = try #require(running.lines.last { $0["step"]?.stringValue == "events" }, "\(running.text)")
            let events = try #require(outcome["events"]?.arrayValue)
            #expect(events.count == 1, "only the tools task concerns this receiver: \(running.text)")
            let event = try #require(events.first?.objectValue)
            #expect(event["txn"]?.stringValue == taskID)
            #expect(event["type"]?.stringValue == "https://schemas.openid.net/secevent/caep/event-type/session-revoked")
            #expect(event["sub_id"]?.objectValue?["session"]?.objectValue?["id"]?.stringValue == taskID)
            #expect(outcome["left"]?.integerValue == 0, "acknowledged events are not sent again")
        } catch {
            await Self.stop(script, client, http, broker)
            throw error
        }
        await Self.stop(script, client, http, broker)
    }

    @Test(
        "a Python SSF push receiver gets the completed task's session-revoked event, retried after a 503, with its Authorization header"
    )
    func pythonPushReceiver() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        let receiver = Self.receiver
        let port = try LoopbackPort.free()
        try await broker.start(configuration: Self.receiverConfiguration(pushPort: port))
        let client = BrokerClient(baseURL: broker.baseURL)
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        var script: StandardClientsTests.Script?
        do {
            let (issuer, credential) = try await Self.receiverCredential(broker, client)
            let running = try StandardClientsTests.Script(
                "ssf_push_receiver.py",
                [issuer, credential.path, receiver, String(port)],
                in: broker.stateDirectory
            )
            script = running
            try await running.wait(forStep: "stream")
            let agent = try broker.workloadAssertion(Self.agentID)
            let (taskID, issued) = try await Self.toolsTask(client, agent: agent)
            #expect(issued.status == 200, "\(issued.body)")
            #expect(try await client.send(.POST, "/v1/tasks/\(taskID)/complete", bearer: agent).status == 200)
            #expect(try await running.finish() == 0, "\(running.text)")
            let outcome = try #require(running.lines.last { $0["step"]?.stringValue == "events" }, "\(running.text)")
            let events = try #require(outcome["events"]?.arrayValue)
            #expect(events.count == 1, "\(running.text)")
            #expect(events.first?.objectValue?["txn"]?.stringValue == taskID)
            #expect(outcome["attempts"]?.integerValue == 2, "refused once with 503, then accepted: \(running.text)")
            if case .double(let after)? = outcome["retried_after"] {
                #expect(after >= 0.9, "retried after a second, not at once")
            }
        } catch {
            await Self.stop(script, client, http, broker)
            throw error
        }
        await Self.stop(script, client, http, broker)
    }

    static let receiver = "spiffe://example.org/services/tools"

    /// A development broker where the tools service is the resource server of the tools audience, allowed to
    /// receive pushes on `pushPort` when one is given.
    static func receiverConfiguration(pushPort: Int?) -> String {
        """
        development: true
        resource_servers:
          - audience: \(audience)
            workloads: [\(receiver)]
        """ + (pushPort.map { "\n    push_endpoints: [http://127.0.0.1:\($0)/]" } ?? "")
    }

    /// The broker's issuer, and a file holding the tools service's credential.
    static func receiverCredential(_ broker: BrokerProcess, _ client: BrokerClient) async throws -> (String, URL) {
        let metadata = try await client.send(.GET, "/.well-known/oauth-authorization-server")
        let issuer = try #require(metadata.body.objectValue?["issuer"]?.stringValue)
        let credential = broker.stateDirectory.appendingPathComponent("tools.jwt")
        try broker.workloadAssertion(receiver).write(to: credential, atomically: true, encoding: .utf8)
        return (issuer, credential)
    }

    /// A task of the support agent with a bearer token for the tools audience: the task's id and the token answer.
    static func toolsTask(_ client: BrokerClient, agent: String) async throws -> (String, BrokerClient.Reply) {
        let task = try await client.send(
            .POST,
            "/v1/tasks",
            bearer: agent,
            json: """
                {"type": "call-tools", "purpose": "answer a support ticket", "bearer": true,
                 "authorization_details": [{"type": "tool", "identifier": "search", "actions": ["call"],
                   "locations": ["\(audience)"]}]}
                """
        )
        let taskID = try #require(task.body.objectValue?["id"]?.stringValue, "\(task.body)")
        let issued = try await client.send(
            .POST,
            "/v1/token",
            form: [
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), ("actor_token", agent),
                ("actor_token_type", "urn:ietf:params:oauth:token-type:jwt"), ("task_id", taskID),
                ("audience", audience),
            ]
        )
        return (taskID, issued)
    }

    static func stop(
        _ server: StandardClientsTests.Script?,
        _ client: BrokerClient,
        _ http: HTTPClient,
        _ broker: BrokerProcess
    ) async {
        if let server, server.process.isRunning {
            kill(server.process.processIdentifier, SIGKILL)
            while server.process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        try? await http.shutdown()
        await client.shutdown()
        _ = try? await broker.stop()
    }
}
