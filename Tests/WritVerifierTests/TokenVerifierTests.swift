import Foundation
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@Suite("verifying tokens")
struct TokenVerifierTests {
    let forge = TokenForge()

    @Test("a valid bearer token is accepted for both algorithms, and every check is on the trail")
    func bearer() throws {
        for key in [forge.key, forge.edKey] {
            let claims = TestIdentity.claims()
            var trail = VerificationTrail()
            let access = try forge.verifier().verify(
                Presentation(authorization: "Bearer " + forge.token(claims, key: key)),
                trail: &trail
            )
            #expect(access.claims == claims)
            #expect(access.workload == TestIdentity.workload)
            #expect(access.user == TestIdentity.user)
            #expect(trail.steps.map(\.check).contains(.signature))
            #expect(trail.steps.allSatisfy { $0.passed })
            #expect(trail.steps.last?.check == .revocation)
        }
    }

    @Test("the scheme is case-insensitive and typ may be application/at+jwt")
    func lenientWhereStandardsAre() throws {
        let verifier = forge.verifier()
        _ = try verifier.verify(Presentation(authorization: "bearer " + forge.token()))
        let token = forge.raw(
            header: #"{"alg":"ES256","kid":"es-1","typ":"application/AT+JWT"}"#,
            payload: forge.payloadText()
        )
        _ = try verifier.verify(Presentation(authorization: "Bearer " + token))
    }

    @Test("a token is accepted up to the skew past exp and from the skew before nbf")
    func skewEdges() throws {
        var claims = TestIdentity.claims()
        claims.expiresAt = TestIdentity.now.addingTimeInterval(-29)
        claims.issuedAt = TestIdentity.now.addingTimeInterval(-100)
        _ = try forge.verifier().verify(Presentation(authorization: "Bearer " + forge.token(claims)))
        claims = TestIdentity.claims()
        claims.notBefore = TestIdentity.now.addingTimeInterval(30)
        _ = try forge.verifier().verify(Presentation(authorization: "Bearer " + forge.token(claims)))
    }

    @Test("a DPoP-bound token with a fresh proof is accepted, once")
    func dpop() throws {
        let verifier = forge.verifier()
        let presentation = forge.boundPresentation()
        let access = try verifier.verify(presentation)
        #expect(access.claims.confirmation == .dpop(jwkThumbprint: forge.holderKey.publicKey.thumbprint))
        #expect(throws: VerificationError.proofReplayed("")) { try verifier.verify(presentation) }
        var second = presentation
        second.dpopProof = forge.proof(for: String(presentation.authorization.dropFirst(5)))
        _ = try verifier.verify(second)
    }

    @Test("a certificate-bound token is accepted with its certificate")
    func mutualTLS() throws {
        let certificate: [UInt8] = Array("a DER certificate".utf8)
        let claims = TestIdentity.claims(
            confirmation: .mutualTLS(certificateThumbprint: SHA256Thumbprint.of(certificate))
        )
        _ = try forge.verifier().verify(
            Presentation(authorization: "Bearer " + forge.token(claims), clientCertificate: certificate)
        )
    }

    @Test("verify-and-authorize refuses an action the grant does not cover, and records it")
    func authorize() throws {
        let verifier = forge.verifier()
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        let handbook = Resource(type: "document", identifier: "hr/dept-42/handbook")
        _ = try verifier.verify(presentation, allowing: "read", on: handbook)
        var trail = VerificationTrail()
        #expect(throws: VerificationError.insufficientAuthorization("")) {
            try verifier.verify(presentation, allowing: "delete", on: handbook, trail: &trail)
        }
        #expect(trail.steps.last == .init(check: .authorization, failure: .insufficientAuthorization))
    }

    @Test("the trail never holds the token or its signature")
    func trailHoldsNoSecret() {
        let token = forge.token()
        var trail = VerificationTrail()
        _ = try? forge.verifier().verify(Presentation(authorization: "Bearer " + token), trail: &trail)
        let text = trail.description
        for part in token.split(separator: ".") { #expect(!text.contains(part)) }
    }

    @Test("an unknown kid triggers one rate-limited refresh, after which the new key verifies")
    func refreshOnUnknownKey() async throws {
        let newKey = SigningKey(id: "es-9", privateKey: .generate(.es256))
        let source = FakeJWKSSource(documents: [
            try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString,
            try JSONWebKeySet(keys: [forge.key.verificationKey, newKey.verificationKey]).jsonString,
        ])
        let keys = RemoteKeySet(source: source, minimumRefreshInterval: 3600, clock: FixedClock(TestIdentity.now))
        try await keys.refresh()
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        // The key appeared right after the load (an immediate rotation): the load does not count against the
        // rate limit, so the first unknown kid refetches at once.
        #expect(throws: VerificationError.unknownKey("")) {
            try verifier.verify(Presentation(authorization: "Bearer " + forge.token(key: newKey)))
        }
        _ = try await verifier.verifyAllowingKeyRefresh(
            Presentation(authorization: "Bearer " + forge.token(key: newKey))
        )
        #expect(source.fetches == 2)
        // Another unknown kid within the interval does not fetch again.
        let madeUp = SigningKey(id: "es-made-up", privateKey: .generate(.es256))
        await #expect(throws: VerificationError.unknownKey("")) {
            try await verifier.verifyAllowingKeyRefresh(
                Presentation(authorization: "Bearer " + forge.token(key: madeUp))
            )
        }
        #expect(source.fetches == 2)
    }

    @Test("a burst of tokens from a new key costs one fetch, and every one is accepted")
    func burstAfterRotation() async throws {
        let newKey = SigningKey(id: "es-9", privateKey: .generate(.es256))
        let source = FakeJWKSSource(
            documents: [
                try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString,
                try JSONWebKeySet(keys: [forge.key.verificationKey, newKey.verificationKey]).jsonString,
            ],
            delay: .milliseconds(200)
        )
        let keys = RemoteKeySet(source: source, minimumRefreshInterval: 3600, clock: FixedClock(TestIdentity.now))
        try await keys.refresh()
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience, cacheCapacity: 0),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        let token = forge.token(key: newKey)
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    (try? await verifier.verifyAllowingKeyRefresh(Presentation(authorization: "Bearer " + token)))
                        != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(accepted == 20, "requests that met the new kid during the refetch were refused")
        #expect(source.fetches == 2)
    }

    @Test("a flood of unknown kids costs at most one fetch per interval")
    func unknownKidFlood() async throws {
        let source = FakeJWKSSource(documents: [try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString])
        let keys = RemoteKeySet(source: source, minimumRefreshInterval: 10, clock: FixedClock(TestIdentity.now))
        for _ in 0..<100 { _ = await keys.refreshAfterUnknownKey() }
        #expect(source.fetches == 1)
    }

    @Test("a failed refresh keeps the previous key set")
    func failedRefreshKeepsKeys() async throws {
        let source = FakeJWKSSource(documents: [
            try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString, "{bad",
        ])
        let keys = RemoteKeySet(source: source, clock: FixedClock(TestIdentity.now))
        try await keys.refresh()
        await #expect(throws: KeyError.self) { try await keys.refresh() }
        #expect(keys.key(id: forge.key.id) != nil)
    }
}
