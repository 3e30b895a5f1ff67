import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
public import WritToken

/// The agent SDK: begin a task, get tokens for it, call resources, finish the task — with credentials that
/// never outlive the work and never print.
///
///     let agent = try WritAgent(configuration: .init(broker: "https://writ.example.org", identity: .jwt { svid() }))
///     let answer = try await agent.withTask(descriptor) { task in
///         var request = HTTPClientRequest(url: "https://docs.example.org/documents/hr/handbook")
///         try await task.authorize(&request, audience: "https://docs.example.org")
///         return try await http.execute(request, timeout: .seconds(10))
///     }
public final class WritAgent: Sendable {
    /// How the agent proves who it is.
    public enum Identity: Sendable {
        /// A JWT-SVID or OIDC workload token, fetched fresh for each call (the provider may cache it).
        case jwt(@Sendable () async throws -> String)
        /// An X.509-SVID over mutual TLS: the certificate chain and key files (PEM) and the CA that signed the
        /// broker's certificate. The files are re-read when they change, so rotated SVIDs are picked up.
        case x509(certificateFile: String, keyFile: String, trustFile: String)
    }

    /// Where the broker is and who the agent is.
    public struct Configuration: Sendable {
        /// The broker's base URL (its mutual-TLS listener for an X.509 identity).
        public var broker: String
        /// The identity.
        public var identity: Identity
        /// Tokens are renewed this long before they expire.
        public var renewBefore: Duration = .seconds(30)

        /// A configuration.
        public init(broker: String, identity: Identity) {
            var base = broker
            while base.hasSuffix("/") { base.removeLast() }
            self.broker = base
            self.identity = identity
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private let clients: ClientCache
    private let discovered = Mutex<String?>(nil)

    /// An agent; call ``shutdown()`` when done with it.
    public init(configuration: Configuration) {
        self.configuration = configuration
        self.clients = ClientCache(identity: configuration.identity)
    }

    /// Releases the HTTP clients.
    public func shutdown() async { await clients.shutdown() }

    /// Begins a task, runs `body` with it, and completes the task when `body` returns — or aborts it when
    /// `body` throws or is cancelled — so its tokens die with the work. Heartbeats are sent while `body`
    /// runs if the descriptor asks for them.
    public func withTask<T: Sendable>(
        _ descriptor: AgentTaskDescriptor,
        _ body: @escaping @Sendable (AgentTask) async throws -> T
    ) async throws -> T {
        let task = try await begin(descriptor.json())
        return try await run(task, heartbeatInterval: descriptor.heartbeatInterval, body)
    }

    /// Works on a task another agent delegated to this one (``AgentTask/delegate(_:to:)`` returned its id):
    /// tokens for it come with this agent's own identity and a DPoP key of its own. The sub-task is completed
    /// when `body` returns and aborted when it throws; it also closes, with every token issued for it, when
    /// the delegating agent's task closes. Heartbeats are sent at the interval the sub-task was created
    /// with, if any.
    public func withDelegatedTask<T: Sendable>(
        _ id: String,
        _ body: @escaping @Sendable (AgentTask) async throws -> T
    ) async throws -> T {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "_", "."])) ?? id
        let found = try await send(.GET, "/v1/tasks/\(escaped)")
        guard let deadline = found.objectValue?["deadline"]?.integerValue,
            found.objectValue?["state"]?.stringValue == "open"
        else {
            throw WritAgentError.refused(code: "task_closed", message: "the delegated task is not open", status: 409)
        }
        let task = AgentTask(id: id, deadline: Date(timeIntervalSince1970: TimeInterval(deadline)), agent: self)
        let heartbeat = found.objectValue?["heartbeat_interval"]?.integerValue.map { Duration.seconds($0) }
        return try await run(task, heartbeatInterval: heartbeat, body)
    }

    /// Runs `body` with a begun task: heartbeats meanwhile, complete on return, abort on throw or cancel.
    private func run<T: Sendable>(
        _ task: AgentTask,
        heartbeatInterval: Duration?,
        _ body: @escaping @Sendable (AgentTask) async throws -> T
    ) async throws -> T {
        let result: T
        do {
            result = try await withThrowingTaskGroup(of: T?.self) { group in
                if let interval = heartbeatInterval {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            _ = try? await self.send(.POST, "/v1/tasks/\(task.id)/heartbeat")
                        }
                    }
                }
                group.addTask { try await body(task) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let value = next { return value }
                }
                throw CancellationError()
            }
        } catch {
            // Abort even when this task is cancelled: the abort runs in a task of its own, awaited here.
            _ = try? await Task { try await self.send(.POST, "/v1/tasks/\(task.id)/abort") }.value
            task.forget()
            throw error
        }
        do {
            _ = try await send(.POST, "/v1/tasks/\(task.id)/complete")
        } catch {
            // Closed meanwhile (expired or revoked): the result stands; anything else is the caller's to see.
            guard case .refused(let code, _, _) = error, code == "task_closed" else { throw error }
        }
        task.forget()
        return result
    }

    func begin(_ body: JSONValue) async throws(WritAgentError) -> AgentTask {
        let created = try await send(.POST, "/v1/tasks", json: body)
        guard let id = created.objectValue?["id"]?.stringValue,
            let deadline = created.objectValue?["deadline"]?.integerValue
        else { throw .unavailable("the broker's task answer is unreadable") }
        return AgentTask(id: id, deadline: Date(timeIntervalSince1970: TimeInterval(deadline)), agent: self)
    }

    /// One request to the broker, authenticated with the agent's identity; a refusal becomes a typed error.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        json: JSONValue? = nil,
        form: [(String, String)]? = nil,
        dpop: String? = nil,
        authenticate: Bool = true
    ) async throws(WritAgentError) -> JSONValue {
        do {
            let client = try clients.client()
            var request = HTTPClientRequest(url: configuration.broker + path)
            request.method = method
            if authenticate, case .jwt(let provider) = configuration.identity, form == nil {
                request.headers.add(name: "Authorization", value: "Bearer \(try await provider())")
            }
            if let dpop { request.headers.add(name: "DPoP", value: dpop) }
            if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(json)))
            } else if let form {
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                let text = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: text.joined(separator: "&")))
            }
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = Array(buffer: try await response.body.collect(upTo: 4 << 20))
            let value = bytes.isEmpty ? JSONValue.null : try StrictJSON().parse(bytes: bytes)
            guard (200..<300).contains(response.status.code) else {
                throw Self.refusal(value, status: Int(response.status.code))
            }
            return value
        } catch let error as WritAgentError {
            throw error
        } catch {
            throw .unavailable(String(describing: error))
        }
    }

    static func refusal(_ body: JSONValue, status: Int) -> WritAgentError {
        let members = body.objectValue ?? [:]
        let code = members["error"]?.stringValue ?? "http_\(status)"
        let message = members["error_description"]?.stringValue ?? ""
        if code == "access_denied", let reasons = members["reasons"]?.arrayValue {
            return .denied(
                reasons.map { reason in
                    let fields = reason.objectValue ?? [:]
                    return WritAgentError.Denial(
                        code: fields["code"]?.stringValue ?? "unknown",
                        entry: fields["entry"]?.integerValue.map { Int($0) },
                        action: fields["action"]?.stringValue,
                        message: fields["message"]?.stringValue ?? "",
                        rules: fields["rules"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    )
                }
            )
        }
        return .refused(code: code, message: message, status: status)
    }

    /// The token endpoint as the broker publishes it (RFC 8414; over mutual TLS its RFC 8705 alias): the URL
    /// DPoP proofs must name. Fetched once.
    func tokenEndpoint() async throws(WritAgentError) -> String {
        if let known = discovered.withLock({ $0 }) { return known }
        let metadata = try await send(.GET, "/.well-known/oauth-authorization-server", authenticate: false)
        let members = metadata.objectValue ?? [:]
        let alias = members["mtls_endpoint_aliases"]?.objectValue?["token_endpoint"]?.stringValue
        let plain = members["token_endpoint"]?.stringValue
        let isTLS: Bool
        if case .x509 = configuration.identity { isTLS = true } else { isTLS = false }
        guard let endpoint = isTLS ? alias ?? plain : plain else {
            throw .unavailable("the broker's metadata names no token endpoint")
        }
        discovered.withLock { $0 = endpoint }
        return endpoint
    }

    /// The workload assertion for a token request's form, when the identity is a JWT.
    func actorFields() async throws(WritAgentError) -> [(String, String)] {
        guard case .jwt(let provider) = configuration.identity else { return [] }
        do {
            return [
                ("actor_token", try await provider()), ("actor_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ]
        } catch {
            throw .unavailable("the workload identity provider failed: \(error)")
        }
    }
}
