import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import ServiceLifecycle
import UnixSignals
import WritToken
import WritVerifier
import WritVerifierHummingbird

/// An example MCP server whose every tool call is authorised by Writ. It serves three tools (`search`,
/// `read_document`, `send_email`) over the Model Context Protocol's streamable HTTP transport at `/mcp`,
/// answering each request with JSON (the stateless form of the transport: one MCP server per HTTP request, so
/// no request ever sees another's token).
///
/// Every request carries a Writ token for this server (`aud` = its resource URL), bearer or DPoP-bound,
/// verified offline by `WritVerifier` (keys from the broker's JWKS, revocations from its feed). A `tools/call`
/// must be covered by an authorization detail `{"type": "tool", "identifier": <tool name>, "actions":
/// ["call"]}`; `tools/list` lists only the tools the token covers. A call the token does not cover is refused
/// with 403 `insufficient_scope` naming the scope that stands for the tool (`tools:<name>`), so a standard MCP
/// client can ask for it. The RFC 9728 metadata at `/.well-known/oauth-protected-resource/mcp` tells clients
/// where to get tokens, and every 401 names it.
///
/// It reads the revocation feed as a resource server, with its own workload identity: a JWT-SVID for
/// `spiffe://example.org/services/tools` in `FEED_CREDENTIAL_FILE` (re-read on every feed request).
///
///     writ dev workload-token spiffe://example.org/services/tools > .writ/dev/tools.jwt
///     WRIT_BROKER=http://127.0.0.1:8080 LISTEN=127.0.0.1:8092 FEED_CREDENTIAL_FILE=.writ/dev/tools.jwt \
///         writ-example-mcp
@main
struct MCPToolsServer {
    struct Context: WritAuthorizedRequestContext {
        var coreContext: CoreRequestContextStorage
        var writAccess: VerifiedAccess?
        init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    }

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let broker = environment["WRIT_BROKER"] ?? "http://127.0.0.1:8080"
        let listen = environment["LISTEN"] ?? "127.0.0.1:8092"
        let resource = environment["RESOURCE"] ?? "http://\(listen)/mcp"
        let staleness = TimeInterval(environment["MAXIMUM_STALENESS"] ?? "") ?? 10
        guard let credentialFile = environment["FEED_CREDENTIAL_FILE"],
            FileManager.default.isReadableFile(atPath: credentialFile)
        else {
            fail(
                "FEED_CREDENTIAL_FILE must name a readable file holding this server's JWT-SVID (`writ dev "
                    + "workload-token spiffe://example.org/services/tools > FILE`): the broker serves its revocation "
                    + "feed only to resource servers"
            )
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            fail("LISTEN must be HOST:PORT, e.g. 127.0.0.1:8092; got \(listen)")
        }
        var logger = Logger(label: "mcp-tools")
        logger.logLevel = .notice
        let keys = RemoteKeySet(source: HTTPJWKSSource(url: broker + "/.well-known/jwks.json"), logger: logger)
        let view = InMemoryRevocationView(maximumStaleness: staleness)
        var feedConfiguration = RevocationFeedClient.Configuration(broker: broker)
        feedConfiguration.silence = .seconds(3)
        feedConfiguration.maximumBackoff = .seconds(1)
        feedConfiguration.requestTimeout = .seconds(2)
        feedConfiguration.credential = .file(credentialFile)
        let feed = RevocationFeedClient(configuration: feedConfiguration, view: view, logger: logger)
        // MCP clients cannot prove possession of a key, so bearer tokens are taken (where the broker's policy
        // issued them); DPoP-bound tokens are checked with their proofs.
        let verifier = TokenVerifier(
            configuration: .init(issuer: broker, audience: resource, acceptsBearerTokens: true),
            keys: keys,
            revocations: view
        )
        let tools = ToolCatalogue(verifier: verifier)
        let metadata = ProtectedResourceMetadata(
            resource: resource,
            authorizationServers: [broker],
            scopesSupported: ToolCatalogue.tools.map { ToolCatalogue.scope(for: $0.name) },
            resourceName: "Writ example tools",
            authorizationDetailsTypesSupported: ["tool"]
        )
        let path = metadata.resourcePath.isEmpty ? "/" : metadata.resourcePath
        let middleware = WritAuthorizationMiddleware<Context>(
            verifier: verifier,
            publicBase: metadata.origin,
            metadata: metadata,
            // The one protected route only verifies (`validToken`); each call's scope is named where it is refused.
            requirement: { request, _ in request.uri.path == path ? .validToken : nil }
        )
        let router = Router(context: Context.self)
        router.add(middleware: middleware)
        router.get("/healthz") { _, _ in "ok" }
        router.on(RouterPath(path), method: .post) { request, context in
            try await tools.serve(request, context: context, middleware: middleware)
        }
        router.on(RouterPath(path), method: .get) { request, context in
            try await tools.serve(request, context: context, middleware: middleware)
        }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(String(listen[..<colon]), port: port)),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: keys), .init(service: feed), .init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
