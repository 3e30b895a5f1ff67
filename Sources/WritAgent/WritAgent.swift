import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import WritAPI
import WritToken

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
        let task = try await begin(descriptor.request())
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
        let found = try await send(.GET, WireRoutes.path("/v1/tasks/{id}", ["id": id]), as: TaskBody.self)
        guard found.state == .open else {
            throw WritAgentError.refused(code: "task_closed", message: "the delegated task is not open", status: 409)
        }
        let task = AgentTask(id: id, deadline: Date(timeIntervalSince1970: TimeInterval(found.deadline)), agent: self)
        let heartbeat = found.heartbeatInterval.map { Duration.seconds($0) }
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
                            _ = try? await self.send(.POST, task.path("heartbeat"), as: TaskBody.self)
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
            _ = try? await Task {
                try await self.send(.POST, task.path("abort"), as: TaskClosureResponse.self)
            }.value
            task.forget()
            throw error
        }
        do {
            _ = try await send(.POST, task.path("complete"), as: TaskClosureResponse.self)
        } catch {
            // Closed meanwhile (expired or revoked): the result stands; anything else is the caller's to see.
            guard case .refused(let code, _, _) = error, code == "task_closed" else { throw error }
        }
        task.forget()
        return result
    }

    func begin(_ request: TaskRequest) async throws(WritAgentError) -> AgentTask {
        let created = try await send(.POST, "/v1/tasks", .json(request), as: TaskBody.self)
        return AgentTask(
            id: created.id,
            deadline: Date(timeIntervalSince1970: TimeInterval(created.deadline)),
            agent: self
        )
    }

    /// What a request to the broker carries.
    enum Payload {
        /// Nothing.
        case none
        /// A JSON body.
        case json(any WireValue)
        /// A form (the token endpoint, which authenticates the workload by its form).
        case form(any WireParameters)
    }

    /// One request to the broker, authenticated with the agent's identity, its answer read as `Answer`; a
    /// refusal becomes a typed error.
    func send<Answer: WireValue>(
        _ method: HTTPMethod,
        _ path: String,
        _ payload: Payload = .none,
        dpop: String? = nil,
        authenticate: Bool = true,
        as answer: Answer.Type
    ) async throws(WritAgentError) -> Answer {
        let bytes: [UInt8]
        let status: Int
        do {
            let client = try clients.client()
            var request = HTTPClientRequest(url: configuration.broker + path)
            request.method = method
            if authenticate, case .jwt(let provider) = configuration.identity {
                request.headers.add(name: "Authorization", value: "Bearer \(try await provider())")
            }
            if let dpop { request.headers.add(name: "DPoP", value: dpop) }
            switch payload {
            case .none: break
            case .json(let body):
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body.bytes))
            case .form(let form):
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form.encoded))
            }
            let response = try await client.execute(request, timeout: .seconds(30))
            bytes = Array(buffer: try await response.body.collect(upTo: 4 << 20))
            status = Int(response.status.code)
        } catch {
            throw .unavailable(String(describing: error))
        }
        guard (200..<300).contains(status) else { throw Self.refusal(bytes, status: status) }
        do {
            return try Answer(responseBody: bytes)
        } catch {
            throw .unavailable("the broker's answer to \(method.rawValue) \(path) is unreadable: \(error)")
        }
    }

    /// A refusal as a typed error: the broker's code and sentence, and for a policy denial its reasons. A body
    /// that is not the broker's error (a proxy's page, say) keeps the status.
    static func refusal(_ bytes: [UInt8], status: Int) -> WritAgentError {
        guard let body = try? ErrorResponse(responseBody: bytes) else {
            return .refused(code: "http_\(status)", message: "", status: status)
        }
        if body.error == "access_denied", let reasons = body.reasons {
            return .denied(
                reasons.map { reason in
                    WritAgentError.Denial(
                        code: reason.code,
                        entry: reason.entry.map { Int($0) },
                        action: reason.action,
                        message: reason.message,
                        rules: reason.rules
                    )
                }
            )
        }
        return .refused(code: body.error, message: body.errorDescription, status: status)
    }

    /// The token endpoint as the broker publishes it (RFC 8414; over mutual TLS its RFC 8705 alias): the URL
    /// DPoP proofs must name. Fetched once.
    func tokenEndpoint() async throws(WritAgentError) -> String {
        if let known = discovered.withLock({ $0 }) { return known }
        let metadata = try await send(
            .GET,
            "/.well-known/oauth-authorization-server",
            authenticate: false,
            as: AuthorizationServerMetadata.self
        )
        let endpoint: String
        if case .x509 = configuration.identity {
            endpoint = metadata.mtlsEndpointAliases?.tokenEndpoint ?? metadata.tokenEndpoint
        } else {
            endpoint = metadata.tokenEndpoint
        }
        discovered.withLock { $0 = endpoint }
        return endpoint
    }

    /// The workload assertion and its type for a token request's form, when the identity is a JWT; nil for an
    /// X.509 identity, which the mutual-TLS connection proves.
    func actorAssertion() async throws(WritAgentError) -> (String?, String?) {
        guard case .jwt(let provider) = configuration.identity else { return (nil, nil) }
        do {
            return (try await provider(), TokenEndpointForm.jwtType)
        } catch {
            throw .unavailable("the workload identity provider failed: \(error)")
        }
    }
}

extension AgentTask {
    /// The path of one of this task's verbs (`heartbeat`, `complete`, `abort`).
    func path(_ verb: String) -> String { WireRoutes.path("/v1/tasks/{id}/\(verb)", ["id": id]) }
}
