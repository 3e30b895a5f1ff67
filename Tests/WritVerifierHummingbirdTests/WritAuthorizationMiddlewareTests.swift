import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import WritTestSupport
import WritToken
import WritVerifier
import WritVerifierHummingbird

struct DocumentsContext: WritAuthorizedRequestContext {
    var coreContext: CoreRequestContextStorage
    var writAccess: VerifiedAccess?
    init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
}

@Suite("The Hummingbird middleware")
struct WritAuthorizationMiddlewareTests {
    static let forge = TokenForge()

    /// A documents service: GET /documents/{path} needs `read` on that document.
    static func application(_ verifier: TokenVerifier) -> some ApplicationProtocol {
        let router = Router(context: DocumentsContext.self)
        router.add(
            middleware: WritAuthorizationMiddleware<DocumentsContext>(
                verifier: verifier,
                publicBase: TestIdentity.audience
            ) { request, _ in
                guard request.uri.path.hasPrefix("/documents/") else { return nil }
                let identifier = String(request.uri.path.dropFirst("/documents/".count))
                return WritRequirement(action: "read", resource: Resource(type: "document", identifier: identifier))
            }
        )
        router.get("/health") { _, _ in "ok" }
        router.get("/documents/**") { _, context in
            "read by \(context.writAccess?.workload.description ?? "nobody")"
        }
        return Application(router: router)
    }

    @Test("a valid token reaches the handler with its access; public routes need none")
    func allowed() async throws {
        let verifier = Self.forge.verifier()
        let token = Self.forge.token()
        try await Self.application(verifier).test(.router) { client async throws in
            let response = try await client.execute(
                uri: "/documents/hr/dept-42/handbook",
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).hasPrefix("read by spiffe://"))
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    @Test("no token is 401 with both challenges; a bad one 401 invalid_token; another resource 403 insufficient_scope")
    func refused() async throws {
        let verifier = Self.forge.verifier()
        let token = Self.forge.token()
        try await Self.application(verifier).test(.router) { client async throws in
            let none = try await client.execute(uri: "/documents/hr/dept-42/handbook", method: .get)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] == "Bearer, DPoP algs=\"ES256 EdDSA\"")
            let bad = try await client.execute(
                uri: "/documents/hr/dept-42/handbook",
                method: .get,
                headers: [.authorization: "Bearer \(token.dropLast(2))xx"]
            )
            #expect(bad.status == .unauthorized)
            #expect(bad.headers[.wwwAuthenticate]?.hasPrefix("Bearer error=\"invalid_token\"") == true)
            #expect(String(buffer: bad.body).contains("\"code\":\"bad_signature\""))
            let elsewhere = try await client.execute(
                uri: "/documents/finance/payroll",
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(elsewhere.status == .forbidden)
            #expect(elsewhere.headers[.wwwAuthenticate]?.contains("insufficient_scope") == true)
        }
    }

    @Test("a DPoP-bound token needs its proof for this method and URL; the challenge names DPoP")
    func dpop() async throws {
        let verifier = Self.forge.verifier()
        let token = Self.forge.token(Self.forge.boundClaims)
        let path = "/documents/hr/dept-42/handbook"
        try await Self.application(verifier).test(.router) { client async throws in
            let proof = Self.forge.proof(for: token, url: TestIdentity.audience + path)
            var headers: HTTPFields = [.authorization: "DPoP \(token)"]
            headers[HTTPField.Name("DPoP")!] = proof
            #expect(try await client.execute(uri: path, method: .get, headers: headers).status == .ok)
            let replayed = try await client.execute(uri: path, method: .get, headers: headers)
            #expect(replayed.status == .unauthorized)
            #expect(
                replayed.headers[.wwwAuthenticate]?.hasPrefix("DPoP algs=\"ES256 EdDSA\", error=\"invalid_dpop_proof\"")
                    == true
            )
            let missing = try await client.execute(uri: path, method: .get, headers: [.authorization: "DPoP \(token)"])
            #expect(missing.status == .unauthorized)
            #expect(String(buffer: missing.body).contains("\"code\":\"proof_required\""))
        }
    }

    @Test("after an immediate rotation a token signed by the new key is accepted: the key set refetches, rate-limited")
    func refetchesOnUnknownKey() async throws {
        let newKey = SigningKey(id: "es-2", privateKey: .generate(.es256))
        let source = RotatingJWKS(documents: [
            try JSONWebKeySet(keys: [Self.forge.key.verificationKey]).jsonString,
            try JSONWebKeySet(keys: [Self.forge.key.verificationKey, newKey.verificationKey]).jsonString,
        ])
        let keyClock = AdjustableClock()
        let keys = RemoteKeySet(source: source, minimumRefreshInterval: 10, clock: keyClock)
        try await keys.refresh()
        #expect(keys.key(id: newKey.id) == nil)
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        // The broker began signing with a key after the last refresh, and longer ago than the rate limit.
        keyClock.advance(by: 11)
        let token = Self.forge.token(key: newKey)
        let path = "/documents/hr/dept-42/handbook"
        try await Self.application(verifier).test(.router) { client async throws in
            let accepted = try await client.execute(
                uri: path,
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
            #expect(source.fetches == 2)
            // A made-up kid right after is refused without another fetch: the refetch is rate-limited.
            let madeUp = Self.forge.token(key: SigningKey(id: "es-made-up", privateKey: .generate(.es256)))
            let refused = try await client.execute(
                uri: path,
                method: .get,
                headers: [.authorization: "Bearer \(madeUp)"]
            )
            #expect(refused.status == .unauthorized)
            #expect(String(buffer: refused.body).contains("\"code\":\"unknown_key\""))
            #expect(source.fetches == 2)
        }
    }

    @Test("a refusal for another resource names the resource asked for")
    func refusalNamesResource() async throws {
        let token = Self.forge.token()
        try await Self.application(Self.forge.verifier()).test(.router) { client async throws in
            let stray = try await client.execute(
                uri: "/documents/finance/payroll/2026-11",
                method: .get,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(stray.status == .forbidden)
            #expect(String(buffer: stray.body).contains("finance/payroll/2026-11"), "\(String(buffer: stray.body))")
            let challenge = try #require(stray.headers[.wwwAuthenticate])
            #expect(challenge.contains("'finance/payroll/2026-11'"), "\(challenge)")
        }
    }
}

/// Serves JWKS documents in turn (repeating the last), counting fetches.
final class RotatingJWKS: JWKSSource {
    private let state: Mutex<(documents: [String], fetches: Int)>

    init(documents: [String]) { state = Mutex((documents, 0)) }

    var fetches: Int { state.withLock { $0.fetches } }

    func fetchJWKS() async throws -> [UInt8] {
        state.withLock { state in
            let index = min(state.fetches, state.documents.count - 1)
            state.fetches += 1
            return Array(state.documents[index].utf8)
        }
    }
}
