public import AsyncHTTPClient
public import Foundation
import NIOHTTP1
import Synchronization
import WritAPI
public import WritToken

/// A task the agent is working on: tokens for it, authorised requests, delegation. It holds a DPoP key made
/// for this task alone, dropped when the task ends; every token is bound to it.
public final class AgentTask: Sendable, CustomStringConvertible {
    /// The task id.
    public let id: String
    /// When the broker will expire it at the latest.
    public let deadline: Date
    let agent: WritAgent
    private let key = PrivateKey.generate(.es256)
    private let tokens = Mutex<[String: AgentAccessToken]>([:])

    init(id: String, deadline: Date, agent: WritAgent) {
        self.id = id
        self.deadline = deadline
        self.agent = agent
    }

    public var description: String { "AgentTask(\(id), deadline: \(Int(deadline.timeIntervalSince1970)))" }

    /// A token for one resource server: cached, and renewed shortly before it expires.
    public func token(for audience: String) async throws(WritAgentError) -> AgentAccessToken {
        let renewBefore = TimeInterval(agent.configuration.renewBefore.components.seconds)
        if let cached = tokens.withLock({ $0[audience] }), cached.expiresAt.timeIntervalSinceNow > renewBefore {
            return cached
        }
        let endpoint = try await agent.tokenEndpoint()
        let proof: String
        do {
            proof = try DPoPProof.create(method: "POST", url: endpoint, key: key, issuedAt: Date())
        } catch {
            throw .unavailable("cannot sign a DPoP proof: \(error)")
        }
        var request = TokenEndpointForm(taskID: id, audience: audience)
        (request.actorToken, request.actorTokenType) = try await agent.actorAssertion()
        let answer = try await agent.send(
            .POST,
            "/v1/token",
            .form(request),
            dpop: proof,
            authenticate: false,
            as: TokenResponse.self
        )
        let token = AgentAccessToken(
            unsafeToken: answer.accessToken,
            audience: audience,
            expiresAt: Date().addingTimeInterval(TimeInterval(answer.expiresIn)),
            tokenType: answer.tokenType.rawValue
        )
        tokens.withLock { $0[audience] = token }
        return token
    }

    /// A fresh DPoP proof of this task's key for one request with `token`; nil for a bearer token, which
    /// needs none.
    public func proof(method: String, url: String, for token: AgentAccessToken) throws(WritAgentError) -> String? {
        guard token.tokenType == "DPoP" else { return nil }
        do {
            return try DPoPProof.create(
                method: method,
                url: url,
                key: key,
                accessToken: token.unsafeToken,
                issuedAt: Date()
            )
        } catch {
            throw .unavailable("cannot sign a DPoP proof: \(error)")
        }
    }

    /// Drops the cached token for `audience`, so the next request gets a new one (after a resource server
    /// refused it).
    public func forgetToken(for audience: String) {
        _ = tokens.withLock { $0.removeValue(forKey: audience) }
    }

    /// Puts a token for `audience` and a fresh DPoP proof for this request's method and URL on `request`.
    public func authorize(_ request: inout HTTPClientRequest, audience: String) async throws(WritAgentError) {
        let token = try await token(for: audience)
        request.headers.replaceOrAdd(name: "Authorization", value: "\(token.tokenType) \(token.unsafeToken)")
        if let proof = try proof(method: request.method.rawValue, url: request.url, for: token) {
            request.headers.replaceOrAdd(name: "DPoP", value: proof)
        }
    }

    /// Creates a narrower sub-task for a sub-agent (`workload`), which then gets its own tokens for it; it
    /// closes when this task does.
    public func delegate(
        _ descriptor: AgentTaskDescriptor,
        to workload: SPIFFEID
    ) async throws(WritAgentError)
        -> String
    {
        let created = try await agent.send(
            .POST,
            "/v1/tasks",
            .json(descriptor.request(parent: id, delegate: workload)),
            as: TaskBody.self
        )
        let child = created.id
        return child
    }

    /// Forgets the cached tokens (the task is over).
    func forget() { tokens.withLock { $0.removeAll() } }
}
