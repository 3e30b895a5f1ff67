import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

/// A compromised key travels like a revocation: an immediate rotation writes a `key` entry per retired key,
/// and a verifier following the feed refuses that key's tokens at once, before its key set is refreshed.
@Suite("Key retirement through the feed")
struct KeyRetirementTests {
    @Test("after an immediate rotation, a verifier following the feed refuses the old key's token at once")
    func immediateRotationReachesVerifiers() async throws {
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
            let oldKey = harness.broker.keys.current.active.id
            // The verifier's key set is the JWKS as it was: it still holds the old key, as a verifier would
            // until its next refresh.
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            let keys = StaticKeySet(try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(jwks.body))))
            let view = InMemoryRevocationView()
            let verifier = TokenVerifier(
                configuration: .init(issuer: BrokerHarness.issuer, audience: TokenRouteTests.git),
                keys: keys,
                revocations: view,
                clock: harness.clock
            )
            let url = "https://git.example.org/repos/example-org/writ-demo"
            func present() throws -> Presentation {
                let proof = try DPoPProof.create(
                    method: "GET",
                    url: url,
                    key: harness.dpopKey,
                    accessToken: token,
                    issuedAt: harness.clock.now
                )
                return Presentation(authorization: "DPoP \(token)", dpopProof: proof, method: "GET", url: url)
            }
            _ = try verifier.verify(try present())

            let rotated = try await client.json(
                .post,
                "/v1/admin/keys/rotate?immediately=true",
                bearer: harness.operatorToken
            )
            #expect(rotated.status == 201)
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            let entries = try (feed.body["revocations"]?.arrayValue ?? []).map { try Revocation(json: $0) }
            let keyEntry = entries.first { $0.subject == .key(oldKey) }
            #expect(keyEntry != nil, "no key entry for the retired key: \(entries)")
            // Kept longer than verifiers' periodic key refresh, whatever the tokens' lifetime.
            #expect((keyEntry?.retainUntil.timeIntervalSince(harness.clock.now) ?? 0) >= 900)
            view.apply(entries)
            #expect(view.retirement(ofKey: oldKey) != nil)
            #expect(throws: VerificationError.revoked("")) { _ = try verifier.verify(try present()) }
            #expect(
                try await client.form("/v1/introspect", [("token", token)], bearer: harness.operatorToken)
                    .body["active"] == .bool(false)
            )
        }
    }
}
