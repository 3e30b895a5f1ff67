import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WritTestSupport
import WritToken
import WritVerifier
import WritVerifierHummingbird

/// RFC 9728 at the middleware: the metadata document at both well-known paths, `resource_metadata` in every 401
/// challenge, the scope of a refused requirement in the 403 challenge, and a handler's own authorisation.
@Suite("Protected resource metadata (RFC 9728)")
struct ProtectedResourceMetadataTests {
    static let forge = TokenForge()
    static let metadata = ProtectedResourceMetadata(
        resource: TestIdentity.audience + "/documents",
        authorizationServers: [TestIdentity.issuer],
        scopesSupported: ["documents:read"],
        resourceName: "documents",
        authorizationDetailsTypesSupported: ["document"]
    )

    static func application(_ verifier: TokenVerifier) -> some ApplicationProtocol {
        let router = Router(context: DocumentsContext.self)
        let middleware = WritAuthorizationMiddleware<DocumentsContext>(
            verifier: verifier,
            publicBase: TestIdentity.audience,
            metadata: metadata,
            scope: { requirement in requirement.resource.type == "document" ? "documents:read" : nil },
            requirement: { request, _ in
                if request.uri.path == "/any" { return .validToken }
                guard request.uri.path.hasPrefix("/documents/") else { return nil }
                let identifier = String(request.uri.path.dropFirst("/documents/".count))
                return WritRequirement(action: "read", resource: Resource(type: "document", identifier: identifier))
            }
        )
        router.add(middleware: middleware)
        router.get("/documents/**") { _, _ in "read" }
        router.get("/any") { _, context -> Response in
            guard let access = context.writAccess else { return Response(status: .internalServerError) }
            // The handler authorises what it learns only now, and refuses in the middleware's terms.
            guard (try? verifier.authorize(access, "delete", on: Resource(type: "document", identifier: "x"))) != nil
            else { return middleware.forbidden("no delete", scope: "documents:delete") }
            return Response(status: .ok)
        }
        return Application(router: router)
    }

    @Test("the document is served at the path-suffixed and the bare well-known path, with its members")
    func served() async throws {
        try await Self.application(Self.forge.verifier()).test(.router) { client async throws in
            for path in ["/.well-known/oauth-protected-resource/documents", "/.well-known/oauth-protected-resource"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let document = try #require(try StrictJSON().parse(String(buffer: response.body)).objectValue)
                #expect(document["resource"] == .string(TestIdentity.audience + "/documents"))
                #expect(document["authorization_servers"] == .array([.string(TestIdentity.issuer)]))
                #expect(document["scopes_supported"] == .array([.string("documents:read")]))
                #expect(document["bearer_methods_supported"] == .array([.string("header")]))
                #expect(document["dpop_signing_alg_values_supported"] == .array([.string("ES256"), .string("EdDSA")]))
                #expect(document["dpop_bound_access_tokens_required"] == .bool(false))
                #expect(document["authorization_details_types_supported"] == .array([.string("document")]))
            }
            let elsewhere = try await client.execute(uri: "/.well-known/oauth-protected-resource/other", method: .get)
            #expect(elsewhere.status == .notFound)
        }
    }

    @Test("every 401 names the metadata; a 403 names the scope that would cover the request")
    func challenges() async throws {
        let url = TestIdentity.audience + "/.well-known/oauth-protected-resource/documents"
        #expect(Self.metadata.url == url)
        let token = Self.forge.token()
        try await Self.application(Self.forge.verifier()).test(.router) { client async throws in
            let none = try await client.execute(uri: "/documents/hr/dept-42/handbook", method: .get)
            #expect(none.status == .unauthorized)
            #expect(
                none.headers[.wwwAuthenticate]
                    == "Bearer resource_metadata=\"\(url)\", DPoP algs=\"ES256 EdDSA\", resource_metadata=\"\(url)\""
            )
            let bad = try await client.execute(
                uri: "/documents/hr/dept-42/handbook",
                method: .get,
                headers: [.authorization: "Bearer \(token.dropLast(2))xx"]
            )
            #expect(bad.status == .unauthorized)
            let challenge = try #require(bad.headers[.wwwAuthenticate])
            #expect(challenge.hasPrefix("Bearer error=\"invalid_token\""))
            #expect(challenge.hasSuffix("resource_metadata=\"\(url)\""))
            let other = try await client.execute(
                uri: "/documents/finance/payroll",
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(other.status == .forbidden)
            let scoped = try #require(other.headers[.wwwAuthenticate])
            #expect(scoped.contains("error=\"insufficient_scope\""))
            #expect(scoped.contains("scope=\"documents:read\""))
            let handled = try await client.execute(
                uri: "/any",
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(handled.status == .forbidden)
            #expect(handled.headers[.wwwAuthenticate]?.contains("scope=\"documents:delete\"") == true)
            #expect(handled.headers[.wwwAuthenticate]?.contains("resource_metadata=\"\(url)\"") == true)
            let anonymous = try await client.execute(uri: "/any", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test("a resource without a path is served at the bare well-known path only")
    func rootResource() {
        let root = ProtectedResourceMetadata(resource: "https://api.example.org", authorizationServers: ["https://as"])
        #expect(root.wellKnownPaths == ["/.well-known/oauth-protected-resource"])
        #expect(root.url == "https://api.example.org/.well-known/oauth-protected-resource")
        let query = ProtectedResourceMetadata(resource: "https://api.example.org/v1/mcp?x=1", authorizationServers: [])
        #expect(query.url == "https://api.example.org/.well-known/oauth-protected-resource/v1/mcp")
        #expect(query.origin == "https://api.example.org")
    }
}
