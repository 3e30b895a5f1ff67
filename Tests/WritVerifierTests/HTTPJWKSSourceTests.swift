import AsyncHTTPClient
import Foundation
import Testing
import WritTestSupport
import WritToken
import WritVerifier

/// Fetches a JWKS over real HTTP from a server the test starts on loopback (Python's http.server).
@Suite("fetching a JWKS over HTTP")
struct HTTPJWKSSourceTests {
    @Test("a remote key set loads from a URL, verifies with it, and a 404 keeps the previous keys")
    func remote() async throws {
        let forge = TokenForge()
        let jwks = try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString
        let server = try StaticFileServer(files: ["jwks.json": jwks])
        do {
            try await server.start()
            try await check(server: server, forge: forge)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func check(server: StaticFileServer, forge: TokenForge) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let keys = RemoteKeySet(
            source: HTTPJWKSSource(url: "http://127.0.0.1:\(server.port)/jwks.json", client: client),
            clock: FixedClock(TestIdentity.now)
        )
        try await keys.refresh()
        #expect(keys.key(id: forge.key.id) != nil)
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        _ = try verifier.verify(Presentation(authorization: "Bearer " + forge.token()))

        let missing = RemoteKeySet(
            source: HTTPJWKSSource(url: "http://127.0.0.1:\(server.port)/nowhere.json", client: client),
            clock: FixedClock(TestIdentity.now)
        )
        await #expect(throws: HTTPJWKSSource.FetchError.self) { try await missing.refresh() }
        #expect(missing.keySet.keys.isEmpty)
        try await client.shutdown()
    }
}
