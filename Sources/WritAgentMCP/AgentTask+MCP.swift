public import Foundation
public import MCP
import Synchronization
public import WritAgent

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension AgentTask {
    /// A client transport to an MCP server (`modelcontextprotocol/swift-sdk`'s streamable HTTP transport) whose
    /// every request carries this task's token for the server, with a fresh DPoP proof when the token is
    /// DPoP-bound. The token is fetched before the first request and renewed before it expires; when the server
    /// refuses it (401), it is dropped and the request sent once more with a new one.
    ///
    /// The audience is the server's resource URL, which by default is the endpoint itself (as the MCP
    /// authorization specification has it). The transport does not stream (`streaming: false`): on Linux the
    /// SDK's client reads only JSON answers, which every stateless server sends.
    public func mcpTransport(endpoint: URL, audience: String? = nil) -> HTTPClientTransport {
        let authorizer = WritMCPAuthorizer(task: self, audience: audience ?? endpoint.absoluteString)
        return HTTPClientTransport(
            endpoint: endpoint,
            streaming: false,
            authorizer: authorizer,
            requestModifier: { request in authorizer.signed(request) }
        )
    }
}

/// Puts a task's token on an MCP client's requests: `prepareAuthorization` (async, before each request) makes
/// sure a token is at hand, `authorizationHeader` gives it, and the request modifier adds the request's DPoP
/// proof once its method and URL are known.
final class WritMCPAuthorizer: HTTPClientAuthorizer {
    let task: AgentTask
    let audience: String
    private let current = Mutex<AgentAccessToken?>(nil)

    init(task: AgentTask, audience: String) {
        self.task = task
        self.audience = audience
    }

    /// One retry after a refusal, with a new token.
    var maxAuthorizationAttempts: Int { 2 }

    /// Tokens (bearer ones above all) travel only over HTTPS, or to this host.
    func validateEndpointSecurity(for endpoint: URL) throws {
        let host = endpoint.host?.lowercased() ?? ""
        guard endpoint.scheme?.lowercased() == "https" || ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        else { throw WritAgentError.unavailable("MCP endpoint \(endpoint.absoluteString.prefix(256)) is not HTTPS") }
    }

    func prepareAuthorization(for endpoint: URL, session: URLSession) async throws {
        let token = try await task.token(for: audience)
        current.withLock { $0 = token }
    }

    func authorizationHeader(for endpoint: URL) -> String? {
        current.withLock { $0 }.map { "\($0.tokenType) \($0.unsafeToken)" }
    }

    func handleChallenge(
        statusCode: Int,
        headers: [String: String],
        endpoint: URL,
        operationKey: String?,
        session: URLSession
    ) async throws -> Bool {
        guard statusCode == 401 else { return false }
        task.forgetToken(for: audience)
        try await prepareAuthorization(for: endpoint, session: session)
        return true
    }

    /// The request with the DPoP proof its token needs, for its own method and URL.
    func signed(_ request: URLRequest) -> URLRequest {
        guard let token = current.withLock({ $0 }), let url = request.url?.absoluteString,
            let proof = try? task.proof(method: request.httpMethod ?? "POST", url: url, for: token)
        else { return request }
        var request = request
        request.setValue(proof, forHTTPHeaderField: "DPoP")
        return request
    }
}
