import Testing
import WritToken

@Suite("keys, JWK and JWKS")
struct KeyTests {
    @Test(
        "a private key survives PEM (PKCS#8) and still signs what its public key verifies",
        arguments: SignatureAlgorithm.allCases
    )
    func pemRoundTrip(algorithm: SignatureAlgorithm) throws {
        let key = PrivateKey.generate(algorithm)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let loaded = try PrivateKey(pemRepresentation: key.pemRepresentation)
        #expect(loaded.publicKey == key.publicKey)
        let message = Array("message".utf8)
        #expect(key.publicKey.isValidSignature(try loaded.signature(for: message), for: message))
    }

    @Test("a private key's description never shows key material")
    func redacted() {
        let key = SigningKey.generate(.es256)
        #expect(!key.description.contains(key.privateKey.pemRepresentation))
        #expect(key.description.contains("redacted"))
        #expect("\(key.privateKey)" == "PrivateKey(ES256, redacted)")
    }

    @Test("garbage PEM is refused with invalid_pem")
    func badPEM() {
        #expect(throws: KeyError.invalidPEM("")) {
            try PrivateKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n")
        }
    }

    @Test("a JWKS round-trips and generated kids are RFC 7638 thumbprints", arguments: SignatureAlgorithm.allCases)
    func jwksRoundTrip(algorithm: SignatureAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        #expect(key.id == key.privateKey.publicKey.thumbprint)
        let set = try JSONWebKeySet(keys: [key.verificationKey])
        let decoded = try JSONWebKeySet(jsonBytes: Array(set.jsonString.utf8))
        #expect(decoded == set)
        #expect(decoded.key(id: key.id)?.algorithm == algorithm)
    }

    @Test(
        "a JWKS that is unsafe or ambiguous is refused",
        arguments: [
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","alg":"HS256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","alg":"EdDSA","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"AAAA"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#,
            #"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#,
            #"{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}"#,
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
            #"{"keys":{}}"#, "[]", #"{"keys":[1]}"#,
        ]
    )
    func unsafeJWKS(document: String) {
        #expect(throws: KeyError.invalidJWKS("")) { try JSONWebKeySet(jsonBytes: Array(document.utf8)) }
    }

    @Test("keys marked for encryption are skipped, not trusted for signatures")
    func encryptionKeysSkipped() throws {
        let document =
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#
        let set = try JSONWebKeySet(jsonBytes: Array(document.utf8))
        #expect(set.key(id: "e") == nil)
    }
}
