import Foundation
import Testing
import WritTestSupport
import WritToken

@Suite("access token claims")
struct ClaimsTests {
    @Test("signed claims decode to the same claims, for both algorithms", arguments: SignatureAlgorithm.allCases)
    func roundTrip(algorithm: SignatureAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        let claims = TestIdentity.claims(confirmation: .dpop(jwkThumbprint: key.privateKey.publicKey.thumbprint))
        let token = try AccessToken.sign(claims, with: key)
        var trail = VerificationTrail()
        let decoded = try AccessToken.decodeVerified(token, trail: &trail) { $0 == key.id ? key.verificationKey : nil }
        #expect(decoded == claims)
        #expect(trail.steps.allSatisfy { $0.passed })
    }

    @Test("the header is exactly alg, kid and typ at+jwt")
    func header() throws {
        let key = SigningKey(id: "k1", privateKey: .generate(.es256))
        let token = try AccessToken.sign(TestIdentity.claims(), with: key)
        let header = try CompactJWS(token, maximumLength: 8192).header()
        #expect(header == ["alg": .string("ES256"), "kid": .string("k1"), "typ": .string("at+jwt")])
    }

    @Test("act nests the delegation chain as RFC 8693 describes, nearest actor outermost")
    func actorChain() throws {
        var claims = TestIdentity.claims()
        let root = try SPIFFEID("spiffe://example.org/agents/root")
        claims.actorChain = [TestIdentity.orchestrator, root]
        let act = try #require(claims.json.objectValue?["act"])
        #expect(
            act
                == .object([
                    "sub": .string(TestIdentity.orchestrator.description),
                    "act": .object(["sub": .string(root.description)]),
                ])
        )
        #expect(try AccessTokenClaims(json: claims.json).actorChain == [TestIdentity.orchestrator, root])
    }

    @Test("scope is the sorted, unique type:action pairs of the grant")
    func scope() {
        let claims = TestIdentity.claims(details: [
            AuthorizationDetail(type: "document", actions: ["read", "list"]),
            AuthorizationDetail(type: "repository", actions: ["open_pull_request"]),
            AuthorizationDetail(type: "document", actions: ["read"]),
        ])
        #expect(claims.scope == "document:list document:read repository:open_pull_request")
    }

    @Test("jti carries 128 random bits and never repeats")
    func tokenIDs() {
        let ids = (0..<1000).map { _ in AccessTokenClaims.makeTokenID() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { Base64URL.decode($0)?.count == 16 })
    }

    @Test("authorization details keep type-specific members and refuse ill-typed common ones")
    func details() throws {
        let detail = try AuthorizationDetail(
            json: try StrictJSON().parse(#"{"type":"refund","actions":["create"],"maximum_amount":100}"#)
        )
        #expect(detail.extensions == ["maximum_amount": .integer(100)])
        #expect(throws: VerificationError.malformed("")) {
            try AuthorizationDetail(json: try StrictJSON().parse(#"{"type":"refund","actions":"create"}"#))
        }
        #expect(throws: VerificationError.malformed("")) {
            try AuthorizationDetail(json: try StrictJSON().parse(#"{"actions":["read"]}"#))
        }
    }
}
