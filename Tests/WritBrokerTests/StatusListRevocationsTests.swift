import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

/// `WritVerifier` with the broker's Token Status Lists as its revocation source instead of the feed.
@Suite("WritVerifier over status lists")
struct StatusListRevocationsTests {
    @Test(
        "a token is refused once its task completes and the list's ttl has run; fails closed when stale, unlisted or elsewhere"
    )
    func followsTheList() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: TokenRouteTests.git),
                headers: [TokenRouteTests.dpop: try harness.proof()]
            )
            let token = try #require(issued.body["access_token"]?.string)
            let claims = try AccessToken.unverifiedClaims(token)
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            let keys = StaticKeySet(try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(jwks.body))))
            let statuses = Mutex<[Int]>([])
            let failing = Mutex(false)
            let revocations = StatusListRevocations(
                configuration: .init(issuer: BrokerHarness.issuer),
                keys: keys,
                clock: harness.clock,
                fetch: { uri, tag in
                    if failing.withLock({ $0 }) { throw BrokerError(.unavailable, "down") }
                    var headers: HTTPFields = [:]
                    if let tag { headers[.ifNoneMatch] = tag }
                    let path = String(uri.dropFirst(BrokerHarness.issuer.count))
                    let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
                    statuses.withLock { $0.append(Int(response.status.code)) }
                    return (Int(response.status.code), String(buffer: response.body), response.headers[.eTag])
                }
            )
            let now = { harness.clock.now }
            // Not fetched yet: refused, and asked for.
            #expect(revocations.status(of: claims, now: now()) == .stale(lastHeard: nil))
            await revocations.refresh()
            #expect(revocations.status(of: claims, now: now()) == .notRevoked)
            // The list must be one of the key that signed the token.
            #expect(revocations.status(of: claims, signedBy: "another-key", now: now()) == .stale(lastHeard: nil))
            let verifier = TokenVerifier(
                configuration: .init(issuer: BrokerHarness.issuer, audience: TokenRouteTests.git),
                keys: keys,
                revocations: revocations,
                clock: harness.clock
            )
            let url = "https://git.example.org/repos/example-org/writ-demo"
            func verify() throws {
                let proof = try DPoPProof.create(
                    method: "GET",
                    url: url,
                    key: harness.dpopKey,
                    accessToken: token,
                    issuedAt: harness.clock.now
                )
                _ = try verifier.verify(
                    Presentation(authorization: "DPoP \(token)", dpopProof: proof, method: "GET", url: url),
                    allowing: "read",
                    on: Resource(type: "repository", identifier: "example-org/writ-demo")
                )
            }
            try verify()

            #expect(try await client.json(.post, "/v1/tasks/\(task)/complete", bearer: coder).status == 200)
            // Within the ttl the copy held stands; after it, the list is fetched again and the bit is seen.
            await revocations.refresh()
            #expect(revocations.status(of: claims, now: now()) == .notRevoked)
            harness.clock.advance(by: 31)
            await revocations.refresh()
            guard case .revoked = revocations.status(of: claims, now: now()) else {
                Issue.record("the completed task's token is not refused")
                return
            }
            do {
                try verify()
                Issue.record("the verifier accepted a revoked token")
            } catch let error as VerificationError {
                #expect(error.code == .revoked)
            }
            // Unchanged since: a conditional request, answered 304, keeps it fresh.
            harness.clock.advance(by: 31)
            await revocations.refresh()
            #expect(statuses.withLock { $0 } == [200, 200, 304])
            // The broker unreachable past the staleness bound: refused.
            failing.withLock { $0 = true }
            harness.clock.advance(by: 61)
            await revocations.refresh()
            guard case .stale = revocations.status(of: claims, now: now()) else {
                Issue.record("a list older than the staleness bound still vouches")
                return
            }
            // A token with no status, or naming a list elsewhere, is never vouched for.
            var bare = claims
            bare.status = nil
            #expect(revocations.status(of: bare, now: now()) == .stale(lastHeard: nil))
            var elsewhere = claims
            elsewhere.status = StatusListReference(index: 0, uri: "https://evil.example/v1/status-lists/x.0")
            #expect(revocations.status(of: elsewhere, now: now()) == .stale(lastHeard: nil))
        }
    }
}
