import Crypto
import Foundation
import WritTestSupport
import WritToken
import WritVerifier

/// One forged or malformed presentation and the code it must be refused with.
struct HostileCase: Sendable, CustomStringConvertible {
    let name: String
    let expected: VerificationError.Code
    let build: @Sendable (TokenForge) -> (Presentation, TokenVerifier)

    var description: String { "\(name) → \(expected.rawValue)" }
}

/// The attacks of RFC 8725 and of published JWT library CVEs, and the malformed inputs around them.
enum HostileCatalogue {
    static let p256Order: [UInt8] = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")
    static let ed25519Order: [UInt8] = hex("EDD3F55C1A631258D69CF7A2DEF9DE1400000000000000000000000000000010")

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func bearer(_ token: String) -> Presentation { Presentation(authorization: "Bearer " + token) }

    /// A case presenting a bearer token to the default verifier.
    static func token(
        _ name: String,
        _ expected: VerificationError.Code,
        _ make: @escaping @Sendable (TokenForge) -> String
    )
        -> HostileCase
    {
        HostileCase(name: name, expected: expected) { forge in (bearer(make(forge)), forge.verifier()) }
    }

    /// A case with a raw header and payload, signed by the broker key.
    static func header(_ name: String, _ expected: VerificationError.Code, _ header: String) -> HostileCase {
        token(name, expected) { forge in forge.raw(header: header, payload: forge.payloadText()) }
    }

    /// A case with a raw payload under the standard header, signed by the broker key.
    static func payload(
        _ name: String,
        _ expected: VerificationError.Code,
        _ edit: @escaping @Sendable (String) -> String
    ) -> HostileCase {
        token(name, expected) { forge in forge.raw(header: forge.headerText, payload: edit(forge.payloadText())) }
    }

    /// A case whose valid ES256 token gets its signature replaced.
    static func signature(
        _ name: String,
        _ expected: VerificationError.Code = .badSignature,
        _ edit: @escaping @Sendable ([UInt8]) -> [UInt8]
    ) -> HostileCase {
        token(name, expected) { forge in
            let token = forge.token()
            let parts = token.split(separator: ".")
            let signature = Base64URL.decode(parts[2])!
            return parts[0] + "." + parts[1] + "." + Base64URL.encode(edit(signature))
        }
    }

    /// A case whose claims are edited, then signed properly.
    static func claims(
        _ name: String,
        _ expected: VerificationError.Code,
        _ edit: @escaping @Sendable (inout AccessTokenClaims) -> Void
    ) -> HostileCase {
        token(name, expected) { forge in
            var claims = TestIdentity.claims()
            edit(&claims)
            return forge.token(claims)
        }
    }

    /// A case presenting a DPoP-bound token with a proof made by `proof`.
    static func proof(
        _ name: String,
        _ expected: VerificationError.Code,
        _ proof: @escaping @Sendable (TokenForge, String) -> String?
    ) -> HostileCase {
        HostileCase(name: name, expected: expected) { forge in
            let token = forge.token(forge.boundClaims)
            var presentation = forge.boundPresentation(token: token)
            presentation.dpopProof = proof(forge, token)
            return (presentation, forge.verifier())
        }
    }

    /// A case where the token is valid but the revocation view says otherwise.
    static func revoked(
        _ name: String,
        _ expected: VerificationError.Code = .revoked,
        view: @escaping @Sendable () -> InMemoryRevocationView
    ) -> HostileCase {
        HostileCase(name: name, expected: expected) { forge in
            (bearer(forge.token()), forge.verifier(revocations: view()))
        }
    }

    static func revocation(_ subject: RevocationSubject) -> InMemoryRevocationView {
        let view = InMemoryRevocationView()
        view.apply([
            Revocation(
                sequence: 1,
                subject: subject,
                revokedAt: TestIdentity.now,
                retainUntil: TestIdentity.now.addingTimeInterval(600)
            )
        ])
        return view
    }

    static func der(_ raw: [UInt8]) -> [UInt8] {
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.isEmpty || value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02, UInt8(value.count)] + value
        }
        let body = integer(raw[0..<32]) + integer(raw[32..<64])
        return [0x30, UInt8(body.count)] + body
    }

    static func addLittleEndian(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: a.count)
        var carry = 0
        for index in 0..<a.count {
            let sum = Int(a[index]) + Int(b[index]) + carry
            result[index] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        return result
    }

    static func hmac(_ input: String, secret: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret)))
    }

    static let cases: [HostileCase] =
        shape + algorithms + headers + keyIDs + signatures + payloads + times
        + audiences + proofs + revocations

    static let shape: [HostileCase] = [
        HostileCase(name: "empty Authorization", expected: .malformed) { forge in
            (Presentation(authorization: ""), forge.verifier())
        },
        HostileCase(name: "no scheme", expected: .malformed) { forge in
            (Presentation(authorization: forge.token()), forge.verifier())
        },
        HostileCase(name: "Basic scheme", expected: .malformed) { forge in
            (Presentation(authorization: "Basic " + forge.token()), forge.verifier())
        },
        HostileCase(name: "two tokens in one header", expected: .malformed) { forge in
            (Presentation(authorization: "Bearer " + forge.token() + " " + forge.token()), forge.verifier())
        },
        token("over 8 KiB", .malformed) { forge in
            var claims = TestIdentity.claims()
            claims.purpose = String(repeating: "p", count: 9000)
            return forge.token(claims)
        },
        token("two segments", .malformed) { forge in
            forge.token().split(separator: ".").prefix(2).joined(separator: ".")
        },
        token("five segments (JWE shape)", .malformed) { forge in forge.token() + ".AAAA.AAAA" },
        token("only dots", .malformed) { _ in String(repeating: ".", count: 4000) },
        token("empty header segment", .malformed) { forge in
            "." + forge.token().split(separator: ".").dropFirst().joined(separator: ".")
        },
        token("empty payload segment", .malformed) { forge in
            let parts = forge.token().split(separator: ".")
            return parts[0] + ".." + parts[2]
        },
        token("padded base64 header", .malformed) { forge in
            let parts = forge.token().split(separator: ".")
            return parts[0] + "=." + parts[1] + "." + parts[2]
        },
        HostileCase(name: "standard-alphabet base64 header", expected: .malformed) { forge in
            // kid "~~~" encodes with a "-" in base64url; the standard alphabet spells it "+".
            let key = SigningKey(id: "~~~", privateKey: forge.key.privateKey)
            let parts = forge.token(TestIdentity.claims(), key: key).split(separator: ".")
            let header = parts[0].replacingOccurrences(of: "-", with: "+")
            let verifier = TokenVerifier(
                configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
                keys: try! StaticKeySet([key.verificationKey]),
                clock: FixedClock(TestIdentity.now)
            )
            return (bearer(header + "." + parts[1] + "." + parts[2]), verifier)
        },
        token("non-canonical trailing bits in the header", .malformed) { forge in
            let parts = forge.token().split(separator: ".")
            var header = Array(parts[0].utf8)
            // The header encodes 41 bytes: the last character carries 4 unused bits; set one.
            header[header.count - 1] = UInt8(ascii: "1")
            return String(decoding: header, as: UTF8.self) + "." + parts[1] + "." + parts[2]
        },
        token("header not JSON", .malformed) { forge in forge.raw(header: "alg=ES256", payload: forge.payloadText()) },
        token("header a JSON array", .malformed) { forge in
            forge.raw(header: #"["ES256"]"#, payload: forge.payloadText())
        },
        header("duplicate alg in header", .malformed, #"{"alg":"EdDSA","alg":"ES256","kid":"es-1","typ":"at+jwt"}"#),
        header("trailing bytes after header JSON", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt"}x"#),
    ]

    static let algorithms: [HostileCase] = [
        token("alg none, no signature", .unsupportedAlgorithm) { forge in
            Base64URL.encode(Array(#"{"alg":"none","kid":"es-1","typ":"at+jwt"}"#.utf8)) + "."
                + Base64URL.encode(Array(forge.payloadText().utf8)) + "."
        },
        header("alg None", .unsupportedAlgorithm, #"{"alg":"None","kid":"es-1","typ":"at+jwt"}"#),
        header("alg NONE", .unsupportedAlgorithm, #"{"alg":"NONE","kid":"es-1","typ":"at+jwt"}"#),
        token("HS256 keyed with the public key (alg confusion)", .unsupportedAlgorithm) { forge in
            let input =
                Base64URL.encode(Array(#"{"alg":"HS256","kid":"es-1","typ":"at+jwt"}"#.utf8)) + "."
                + Base64URL.encode(Array(forge.payloadText().utf8))
            let secret = Array(forge.key.privateKey.publicKey.pemRepresentation.utf8)
            return input + "." + Base64URL.encode(hmac(input, secret: secret))
        },
        header("HS384", .unsupportedAlgorithm, #"{"alg":"HS384","kid":"es-1","typ":"at+jwt"}"#),
        header("HS512", .unsupportedAlgorithm, #"{"alg":"HS512","kid":"es-1","typ":"at+jwt"}"#),
        header("RS256", .unsupportedAlgorithm, #"{"alg":"RS256","kid":"es-1","typ":"at+jwt"}"#),
        header("PS256", .unsupportedAlgorithm, #"{"alg":"PS256","kid":"es-1","typ":"at+jwt"}"#),
        header("ES384", .unsupportedAlgorithm, #"{"alg":"ES384","kid":"es-1","typ":"at+jwt"}"#),
        header("lower-case es256", .unsupportedAlgorithm, #"{"alg":"es256","kid":"es-1","typ":"at+jwt"}"#),
        header("alg missing", .malformed, #"{"kid":"es-1","typ":"at+jwt"}"#),
        header("alg a number", .malformed, #"{"alg":256,"kid":"es-1","typ":"at+jwt"}"#),
        token("EdDSA header over the ES256 key's kid", .unsupportedAlgorithm) { forge in
            forge.raw(
                header: #"{"alg":"EdDSA","kid":"es-1","typ":"at+jwt"}"#,
                payload: forge.payloadText(),
                signer: forge.edKey.privateKey
            )
        },
        token("ES256 header over the Ed25519 key's kid", .unsupportedAlgorithm) { forge in
            forge.raw(header: #"{"alg":"ES256","kid":"ed-1","typ":"at+jwt"}"#, payload: forge.payloadText())
        },
    ]

    static let headers: [HostileCase] = [
        header("crit", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","crit":["exp"],"exp":1}"#),
        token("embedded jwk signed by the attacker", .malformed) { forge in
            let jwk = JSONWriter.string(.object(forge.attackerKey.privateKey.publicKey.jwkMembers))
            return forge.raw(
                header: #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","jwk":"# + jwk + "}",
                payload: forge.payloadText(),
                signer: forge.attackerKey.privateKey
            )
        },
        header("jku", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","jku":"https://evil.test/jwks"}"#),
        header("x5u", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","x5u":"https://evil.test/c.pem"}"#),
        header("x5c", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","x5c":["MIIB"]}"#),
        header("unknown header member cty", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","cty":"JWT"}"#),
        header("b64 false", .malformed, #"{"alg":"ES256","kid":"es-1","typ":"at+jwt","b64":false}"#),
        header("typ JWT", .wrongType, #"{"alg":"ES256","kid":"es-1","typ":"JWT"}"#),
        header("typ missing", .wrongType, #"{"alg":"ES256","kid":"es-1"}"#),
        header("typ dpop+jwt (a proof as a token)", .wrongType, #"{"alg":"ES256","kid":"es-1","typ":"dpop+jwt"}"#),
        header("typ id-token style", .wrongType, #"{"alg":"ES256","kid":"es-1","typ":"application/jwt"}"#),
    ]

    static let keyIDs: [HostileCase] = [
        header("kid missing", .malformed, #"{"alg":"ES256","typ":"at+jwt"}"#),
        header("kid empty", .malformed, #"{"alg":"ES256","kid":"","typ":"at+jwt"}"#),
        header("kid a number", .malformed, #"{"alg":"ES256","kid":1,"typ":"at+jwt"}"#),
        header("kid null", .malformed, #"{"alg":"ES256","kid":null,"typ":"at+jwt"}"#),
        header("kid unknown", .unknownKey, #"{"alg":"ES256","kid":"es-2","typ":"at+jwt"}"#),
        header("kid path traversal", .unknownKey, #"{"alg":"ES256","kid":"../../../dev/null","typ":"at+jwt"}"#),
        header("kid SQL injection", .unknownKey, #"{"alg":"ES256","kid":"x' UNION SELECT 'k","typ":"at+jwt"}"#),
        header("kid with a NUL", .unknownKey, #"{"alg":"ES256","kid":"es-1\u0000","typ":"at+jwt"}"#),
        token("right kid, attacker's key", .badSignature) { forge in forge.token(key: forge.attackerKey) },
    ]

    static let signatures: [HostileCase] = [
        signature("signature stripped") { _ in [] },
        signature("one bit flipped") { signature in
            var copy = signature
            copy[10] ^= 0x01
            return copy
        },
        signature("r = 0") { signature in [UInt8](repeating: 0, count: 32) + signature[32...] },
        signature("s = 0") { signature in Array(signature[..<32]) + [UInt8](repeating: 0, count: 32) },
        signature("r = s = 0 (psychic signature)") { _ in [UInt8](repeating: 0, count: 64) },
        signature("r = n") { signature in p256Order + signature[32...] },
        signature("s = n") { signature in Array(signature[..<32]) + p256Order },
        signature("r and s all ones") { _ in [UInt8](repeating: 0xFF, count: 64) },
        signature("DER-encoded ECDSA signature") { signature in der(signature) },
        signature("65 bytes") { signature in signature + [0] },
        signature("63 bytes") { signature in Array(signature.dropLast()) },
        signature("r and s swapped") { signature in Array(signature[32...] + signature[..<32]) },
        token("signature of another token", .badSignature) { forge in
            let first = forge.token().split(separator: ".")
            let second = forge.token().split(separator: ".")
            return first[0] + "." + first[1] + "." + second[2]
        },
        token("payload changed after signing", .badSignature) { forge in
            let parts = forge.token().split(separator: ".")
            var claims = TestIdentity.claims()
            claims.authorizationDetails = [AuthorizationDetail(type: "document", actions: ["read", "delete"])]
            return parts[0] + "." + Base64URL.encode(JSONWriter.bytes(claims.json)) + "." + parts[2]
        },
        token("signature not canonical base64url", .badSignature) { forge in forge.token() + "=" },
        token("Ed25519 S + L (non-canonical, malleable)", .badSignature) { forge in
            let parts = forge.token(key: forge.edKey).split(separator: ".")
            let signature = Base64URL.decode(parts[2])!
            let malleated = Array(signature[..<32]) + addLittleEndian(Array(signature[32...]), ed25519Order)
            return parts[0] + "." + parts[1] + "." + Base64URL.encode(malleated)
        },
        token("Ed25519 all-zero signature", .badSignature) { forge in
            let parts = forge.token(key: forge.edKey).split(separator: ".")
            return parts[0] + "." + parts[1] + "." + Base64URL.encode([UInt8](repeating: 0, count: 64))
        },
    ]

    static let payloads: [HostileCase] = [
        payload("duplicate aud claims", .malformed) { text in
            text.replacingOccurrences(of: #""aud":"#, with: #""aud":"https://evil.writ.test","aud":"#)
        },
        payload("payload not JSON", .malformed) { _ in "not json" },
        payload("payload a JSON array", .malformed) { _ in "[]" },
        payload("lone surrogate in a claim", .malformed) { text in
            text.replacingOccurrences(of: #""purp":""#, with: #""purp":"\ud800"#)
        },
        payload("exp a string", .malformed) { text in
            text.replacingOccurrences(of: #""exp":1800000300"#, with: #""exp":"1800000300""#)
        },
        payload("exp fractional", .malformed) { text in
            text.replacingOccurrences(of: #""exp":1800000300"#, with: #""exp":1800000300.5"#)
        },
        payload("exp negative", .malformed) { text in
            text.replacingOccurrences(of: #""exp":1800000300"#, with: #""exp":-1"#)
        },
        payload("exp missing", .malformed) { text in text.replacingOccurrences(of: #""exp":1800000300,"#, with: "") },
        payload("jti missing", .malformed) { text in
            text.replacingOccurrences(of: #""jti":"#, with: #""xjti":"#)
        },
        payload("client_id not a SPIFFE ID", .malformed) { text in
            text.replacingOccurrences(of: "spiffe://example.org/agents/retrieval", with: "agent-7")
        },
        payload("aud an empty array", .malformed) { text in
            text.replacingOccurrences(of: #""aud":"https://docs.writ.test""#, with: #""aud":[]"#)
        },
        payload("nesting 64 deep", .malformed) { text in
            String(text.dropLast()) + #","x":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
                + "}"
        },
        payload("trailing garbage after the payload", .malformed) { text in text + "}" },
    ]

    static let times: [HostileCase] = [
        claims("expired beyond the skew", .expired) { $0.expiresAt = TestIdentity.now.addingTimeInterval(-31) },
        claims("exp exactly at now minus skew", .expired) { $0.expiresAt = TestIdentity.now.addingTimeInterval(-30) },
        claims("nbf beyond the skew", .notYetValid) { $0.notBefore = TestIdentity.now.addingTimeInterval(31) },
        claims("iat in the future beyond the skew", .notYetValid) {
            $0.issuedAt = TestIdentity.now.addingTimeInterval(120)
            $0.expiresAt = TestIdentity.now.addingTimeInterval(400)
        },
        claims("exp at the epoch", .expired) { $0.expiresAt = Date(timeIntervalSince1970: 0) },
    ]

    static let audiences: [HostileCase] = [
        claims("another issuer", .wrongIssuer) { $0.issuer = "https://evil.writ.test" },
        claims("issuer with a trailing slash", .wrongIssuer) { $0.issuer = TestIdentity.issuer + "/" },
        claims("issuer in upper case", .wrongIssuer) { $0.issuer = TestIdentity.issuer.uppercased() },
        claims("another audience", .wrongAudience) { $0.audience = "https://billing.writ.test" },
        claims("audience with a suffix", .wrongAudience) { $0.audience = TestIdentity.audience + ".evil.test" },
        payload("aud array naming this and another server", .wrongAudience) { text in
            text.replacingOccurrences(
                of: #""aud":"https://docs.writ.test""#,
                with: #""aud":["https://docs.writ.test","https://billing.writ.test"]"#
            )
        },
    ]

    static let proofs: [HostileCase] = [
        HostileCase(name: "DPoP-bound token as Bearer", expected: .proofRequired) { forge in
            (bearer(forge.token(forge.boundClaims)), forge.verifier())
        },
        proof("DPoP-bound token without a proof", .proofRequired) { _, _ in nil },
        proof("proof from another key", .bindingMismatch) { forge, token in
            forge.proof(for: token, key: .generate(.es256))
        },
        proof("proof for another method", .proofInvalid) { forge, token in forge.proof(for: token, method: "DELETE") },
        proof("proof for another URL", .proofInvalid) { forge, token in
            forge.proof(for: token, url: TestIdentity.audience + "/documents/hr/dept-7/salaries")
        },
        proof("proof too old", .proofInvalid) { forge, token in
            forge.proof(for: token, issuedAt: TestIdentity.now.addingTimeInterval(-120))
        },
        proof("proof from the future", .proofInvalid) { forge, token in
            forge.proof(for: token, issuedAt: TestIdentity.now.addingTimeInterval(60))
        },
        proof("proof without ath", .proofInvalid) { forge, _ in forge.proof(for: nil) },
        proof("proof with ath of another token", .proofInvalid) { forge, _ in
            forge.proof(for: forge.token(forge.boundClaims))
        },
        proof("proof typ JWT", .proofInvalid) { forge, token in
            var header = forge.holderKey.publicKey.jwkMembers
            header = ["typ": .string("JWT"), "alg": .string("ES256"), "jwk": .object(header)]
            let claims: JSONValue = .object([
                "jti": .string("p1"), "htm": .string("GET"),
                "htu": .string(TestIdentity.audience + "/documents/hr/dept-42/handbook"),
                "iat": .integer(1_800_000_000), "ath": .string(DPoPProof.accessTokenHash(token)),
            ])
            return try! JWSSigner.sign(header: header, payload: claims, with: forge.holderKey)
        },
        proof("proof alg none", .proofInvalid) { forge, token in
            let jwk = JSONWriter.string(.object(forge.holderKey.publicKey.jwkMembers))
            return Base64URL.encode(Array((#"{"typ":"dpop+jwt","alg":"none","jwk":"# + jwk + "}").utf8)) + "."
                + Base64URL.encode(
                    Array(#"{"jti":"x","htm":"GET","htu":"https://docs.writ.test/","iat":1800000000}"#.utf8)
                )
                + "."
        },
        proof("proof jwk carries the private key", .proofInvalid) { forge, token in
            guard case .p256(let key) = forge.holderKey else { return nil }
            var jwk = forge.holderKey.publicKey.jwkMembers
            jwk["d"] = .string(Base64URL.encode(key.rawRepresentation))
            let header: [String: JSONValue] = [
                "typ": .string("dpop+jwt"), "alg": .string("ES256"), "jwk": .object(jwk),
            ]
            let claims: JSONValue = .object([
                "jti": .string("p2"), "htm": .string("GET"),
                "htu": .string(TestIdentity.audience + "/documents/hr/dept-42/handbook"),
                "iat": .integer(1_800_000_000), "ath": .string(DPoPProof.accessTokenHash(token)),
            ])
            return try! JWSSigner.sign(header: header, payload: claims, with: forge.holderKey)
        },
        proof("proof signed by a key other than its jwk", .proofInvalid) { forge, token in
            let header: [String: JSONValue] = [
                "typ": .string("dpop+jwt"), "alg": .string("ES256"),
                "jwk": .object(forge.holderKey.publicKey.jwkMembers),
            ]
            let claims: JSONValue = .object([
                "jti": .string("p3"), "htm": .string("GET"),
                "htu": .string(TestIdentity.audience + "/documents/hr/dept-42/handbook"),
                "iat": .integer(1_800_000_000), "ath": .string(DPoPProof.accessTokenHash(token)),
            ])
            return try! JWSSigner.sign(header: header, payload: claims, with: .generate(.es256))
        },
        proof("proof is the access token itself", .proofInvalid) { _, token in token },
        proof("proof missing its nonce when one is required", .proofInvalid) { forge, token in
            forge.proof(for: token, nonce: "stale-nonce")
        }
        .requiringNonce,
        HostileCase(name: "proof replayed", expected: .proofReplayed) { forge in
            let verifier = forge.verifier()
            let presentation = forge.boundPresentation()
            _ = try? verifier.verify(presentation)
            return (presentation, verifier)
        },
        HostileCase(name: "unbound token with the DPoP scheme", expected: .proofInvalid) { forge in
            let token = forge.token()
            return (
                Presentation(
                    authorization: "DPoP " + token,
                    dpopProof: forge.proof(for: token),
                    url: TestIdentity.audience
                ),
                forge.verifier()
            )
        },
        HostileCase(name: "certificate-bound token without a certificate", expected: .proofRequired) { forge in
            let claims = TestIdentity.claims(
                confirmation: .mutualTLS(certificateThumbprint: SHA256Thumbprint.of([1, 2, 3]))
            )
            return (bearer(forge.token(claims)), forge.verifier())
        },
        HostileCase(name: "certificate-bound token with another certificate", expected: .bindingMismatch) { forge in
            let claims = TestIdentity.claims(
                confirmation: .mutualTLS(certificateThumbprint: SHA256Thumbprint.of([1, 2, 3]))
            )
            return (
                Presentation(authorization: "Bearer " + forge.token(claims), clientCertificate: [1, 2, 4]),
                forge.verifier()
            )
        },
        HostileCase(name: "bearer token where only bound tokens are accepted", expected: .proofRequired) { forge in
            (bearer(forge.token()), forge.verifier { $0.acceptsBearerTokens = false })
        },
    ]

    static let revocations: [HostileCase] = [
        revoked("task revoked") { revocation(.task(TestIdentity.taskID)) },
        revoked("workload revoked") { revocation(.workload(TestIdentity.workload)) },
        revoked("delegating workload revoked") { revocation(.workload(TestIdentity.orchestrator)) },
        revoked("user revoked") { revocation(.user(TestIdentity.user)) },
        revoked("issued before a cutoff") {
            revocation(.issuedBefore(TestIdentity.now, workload: nil))
        },
        revoked("issued before a cutoff for this workload") {
            revocation(.issuedBefore(TestIdentity.now, workload: TestIdentity.workload))
        },
        HostileCase(name: "token revoked by jti", expected: .revoked) { forge in
            let claims = TestIdentity.claims()
            return (bearer(forge.token(claims)), forge.verifier(revocations: revocation(.token(claims.tokenID))))
        },
        revoked("view never synced", .revocationViewStale) { InMemoryRevocationView(maximumStaleness: 60) },
        revoked("view last synced beyond its bound", .revocationViewStale) {
            let view = InMemoryRevocationView(maximumStaleness: 60)
            view.markSynced(at: TestIdentity.now.addingTimeInterval(-61))
            return view
        },
    ]
}

extension HostileCase {
    /// The same case against a verifier that requires a nonce other than the proof's.
    fileprivate var requiringNonce: HostileCase {
        let build = self.build
        return HostileCase(name: name, expected: expected) { forge in
            let (presentation, _) = build(forge)
            return (presentation, forge.verifier { $0.validNonces = ["current-nonce"] })
        }
    }
}
