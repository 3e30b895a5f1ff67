import Foundation
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@Suite("the verified-token cache")
struct VerifiedTokenCacheTests {
    let forge = TokenForge()

    @Test("a token seen again skips the signature, and the trail says so")
    func hit() throws {
        let verifier = forge.verifier()
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        var first = VerificationTrail()
        _ = try verifier.verify(presentation, trail: &first)
        #expect(first.steps.contains { $0.check == .signature })
        var second = VerificationTrail()
        _ = try verifier.verify(presentation, trail: &second)
        #expect(second.steps.first { $0.check == .cache }?.passed == true)
        #expect(!second.steps.contains { $0.check == .signature })
        #expect(verifier.cache?.count == 1)
    }

    @Test("every other check still runs on a hit: time, audience and revocation")
    func checksStillRun() throws {
        let view = InMemoryRevocationView()
        let claims = TestIdentity.claims()
        let token = forge.token(claims)
        let verifier = forge.verifier(revocations: view)
        _ = try verifier.verify(Presentation(authorization: "Bearer " + token))
        view.apply([
            Revocation(
                sequence: 1,
                subject: .token(claims.tokenID),
                revokedAt: TestIdentity.now,
                retainUntil: TestIdentity.now + 600
            )
        ])
        #expect(throws: VerificationError.revoked("")) {
            try verifier.verify(Presentation(authorization: "Bearer " + token))
        }
        let clock = AdjustableClock()
        let timed = TokenVerifier(configuration: verifier.configuration, keys: verifier.keys, clock: clock)
        let fresh = forge.token()
        _ = try timed.verify(Presentation(authorization: "Bearer " + fresh))
        clock.advance(by: 3600)
        #expect(throws: VerificationError.expired("")) {
            try timed.verify(Presentation(authorization: "Bearer " + fresh))
        }
        #expect(timed.cache?.count == 1)
    }

    @Test("a token whose key left the key set is refused even though it was cached")
    func keyRemoved() async throws {
        let source = FakeJWKSSource(documents: [
            try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString,
            try JSONWebKeySet(keys: [forge.edKey.verificationKey]).jsonString,
        ])
        let keys = RemoteKeySet(source: source, clock: FixedClock(TestIdentity.now))
        try await keys.refresh()
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        _ = try verifier.verify(presentation)
        try await keys.refresh()
        #expect(throws: VerificationError.unknownKey("")) { try verifier.verify(presentation) }
    }

    @Test("only tokens that passed every check are cached, and a refused one never is")
    func onlySuccesses() {
        let verifier = forge.verifier()
        var claims = TestIdentity.claims()
        claims.audience = "https://other.writ.test"
        _ = try? verifier.verify(Presentation(authorization: "Bearer " + forge.token(claims)))
        _ = try? verifier.verify(Presentation(authorization: "Bearer " + forge.token(key: forge.attackerKey)))
        #expect(verifier.cache?.count == 0)
    }

    @Test("a changed signature on a cached token's payload misses the cache and fails")
    func exactBytes() throws {
        let verifier = forge.verifier()
        let token = forge.token()
        _ = try verifier.verify(Presentation(authorization: "Bearer " + token))
        let parts = token.split(separator: ".")
        let forged = parts[0] + "." + parts[1] + "." + Base64URL.encode([UInt8](repeating: 7, count: 64))
        #expect(throws: VerificationError.badSignature("")) {
            try verifier.verify(Presentation(authorization: "Bearer " + forged))
        }
    }

    @Test("the cache stays within its capacity")
    func bounded() throws {
        let verifier = forge.verifier { $0.cacheCapacity = 8 }
        for _ in 0..<50 { _ = try verifier.verify(Presentation(authorization: "Bearer " + forge.token())) }
        #expect((verifier.cache?.count ?? 0) <= 8)
    }
}
