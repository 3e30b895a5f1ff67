import Foundation
import Testing
import WritToken

/// Published vectors: RFC 7515 A.3, RFC 8037 A, RFC 7638 §3.1, RFC 9449.
@Suite("known answers from the RFCs")
struct KnownAnswerTests {
    static func fixture(_ name: String) throws -> [String: JSONValue] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try #require(try StrictJSON().parse(Array(try Data(contentsOf: url))).objectValue)
    }

    @Test("the RFC 7515 A.3 ES256 signature verifies, and fails once a byte changes")
    func rfc7515ES256() throws {
        let vector = try Self.fixture("rfc7515-a3")
        var jwk = try #require(vector["jwk"]?.objectValue)
        let privateKey = try PrivateKey(jwkMembers: jwk)
        jwk["d"] = nil
        let publicKey = try PublicKey(jwkMembers: jwk)
        #expect(privateKey.publicKey == publicKey)
        let compact = try #require(vector["compact"]?.stringValue)
        let jws = try CompactJWS(compact, maximumLength: 8192)
        let signature = try jws.signature(length: 64)
        #expect(publicKey.isValidSignature(signature, for: jws.signingInput))
        var altered = Array(jws.signingInput)
        altered[altered.count - 1] ^= 1
        #expect(!publicKey.isValidSignature(signature, for: altered))
    }

    @Test("the RFC 7515 A.3 token is refused as an access token: it has no typ or kid")
    func rfc7515IsNotAnAccessToken() throws {
        let vector = try Self.fixture("rfc7515-a3")
        let compact = try #require(vector["compact"]?.stringValue)
        var trail = VerificationTrail()
        #expect(throws: VerificationError.wrongType("")) {
            try AccessToken.decodeVerified(compact, trail: &trail) { _ in nil }
        }
    }

    @Test("RFC 8037: the Ed25519 key's thumbprint and deterministic signature match")
    func rfc8037Ed25519() throws {
        let vector = try Self.fixture("rfc8037-a")
        let privateKey = try PrivateKey(jwkMembers: try #require(vector["privateJWK"]?.objectValue))
        let publicKey = try PublicKey(jwkMembers: try #require(vector["publicJWK"]?.objectValue))
        #expect(privateKey.publicKey == publicKey)
        #expect(publicKey.thumbprint == vector["thumbprint"]?.stringValue)
        let header = try #require(vector["protectedHeader"]?.stringValue)
        let payload = try #require(vector["payload"]?.stringValue)
        let signature = try privateKey.signature(for: Array("\(header).\(payload)".utf8))
        #expect(Base64URL.encode(signature) == vector["signature"]?.stringValue)
        let jws = try CompactJWS(try #require(vector["compact"]?.stringValue), maximumLength: 8192)
        #expect(publicKey.isValidSignature(try jws.signature(length: 64), for: jws.signingInput))
    }

    @Test("RFC 7638: the thumbprint is SHA-256 over the canonical members")
    func rfc7638() throws {
        let vector = try Self.fixture("rfc7638")
        let canonical = try #require(vector["canonical"]?.stringValue)
        #expect(SHA256Thumbprint.of(canonical.utf8) == vector["thumbprint"]?.stringValue)
    }

    @Test("RFC 9449: the example proof verifies, its key's thumbprint is the jkt, and ath hashes the token")
    func rfc9449() throws {
        let vector = try Self.fixture("rfc9449")
        let proof = try #require(vector["proof"]?.stringValue)
        let claims = try #require(vector["proofClaims"]?.objectValue)
        let iat = try #require(claims["iat"]?.integerValue)
        let verified = try DPoPProof.verify(
            proof,
            method: "POST",
            url: "https://server.example.com/token",
            accessToken: String?.none,
            now: Date(timeIntervalSince1970: TimeInterval(iat))
        )
        #expect(verified.keyThumbprint == vector["jkt"]?.stringValue)
        #expect(verified.id == claims["jti"]?.stringValue)
        let accessToken = try #require(vector["accessToken"]?.stringValue)
        #expect(DPoPProof.accessTokenHash(accessToken) == vector["ath"]?.stringValue)
    }
}
