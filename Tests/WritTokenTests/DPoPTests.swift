import Foundation
import Testing
import WritTestSupport
import WritToken

@Suite("DPoP proofs")
struct DPoPTests {
    let now = TestIdentity.now
    let url = "https://docs.writ.test/documents/1"

    @Test("a proof made here verifies, and yields its key's thumbprint", arguments: SignatureAlgorithm.allCases)
    func roundTrip(algorithm: SignatureAlgorithm) throws {
        let key = PrivateKey.generate(algorithm)
        let proof = try DPoPProof.create(
            method: "GET",
            url: url,
            key: key,
            accessToken: "tok",
            nonce: "n1",
            issuedAt: now
        )
        let verified = try DPoPProof.verify(
            proof,
            method: "GET",
            url: url + "?q=1#frag",
            accessToken: "tok",
            validNonces: ["n1"],
            now: now
        )
        #expect(verified.keyThumbprint == key.publicKey.thumbprint)
    }

    @Test(
        "htu comparison uses the normal form of the URI",
        arguments: [
            ("HTTPS://Docs.Writ.Test:443/documents/1", "https://docs.writ.test/documents/1"),
            ("http://docs.writ.test:80", "http://docs.writ.test/"),
            ("https://docs.writ.test/a/./b/../c", "https://docs.writ.test/a/c"),
            ("https://docs.writ.test/%7euser/%2f", "https://docs.writ.test/~user/%2F"),
            ("https://docs.writ.test:8443/x?y#z", "https://docs.writ.test:8443/x"),
            ("https://docs.writ.test:/x", "https://docs.writ.test/x"),
            ("https://[::1]:443/x", "https://[::1]/x"),
        ]
    )
    func normalization(input: String, expected: String) {
        #expect(HTTPURI.normalized(input) == expected)
    }

    @Test(
        "URIs that cannot be compared safely are refused",
        arguments: [
            "ftp://docs.writ.test/", "https://user@docs.writ.test/", "docs.writ.test/x", "https://", "https://h/%zz",
            "https://h:port/",
        ]
    )
    func unnormalizable(input: String) {
        #expect(HTTPURI.normalized(input) == nil)
    }

    @Test("a proof for another request, time or token is refused with proof_invalid")
    func mismatches() throws {
        let key = PrivateKey.generate(.es256)
        let proof = try DPoPProof.create(method: "GET", url: url, key: key, accessToken: "tok", issuedAt: now)
        let cases: [(String, String, String?, Date, Set<String>?)] = [
            ("POST", url, "tok", now, nil),
            ("GET", "https://docs.writ.test/documents/2", "tok", now, nil),
            ("GET", url, "other", now, nil),
            ("GET", url, "tok", now.addingTimeInterval(61), nil),
            ("GET", url, "tok", now.addingTimeInterval(-6), nil),
            ("GET", url, "tok", now, ["n1"]),
        ]
        for (method, target, token, time, nonces) in cases {
            #expect(throws: VerificationError.proofInvalid("")) {
                try DPoPProof.verify(
                    proof,
                    method: method,
                    url: target,
                    accessToken: token,
                    validNonces: nonces,
                    now: time
                )
            }
        }
    }
}

extension DPoPTests {
    /// A proof with these extra header members, signed by its own key.
    func proof(extraHeader: [String: JSONValue], key: PrivateKey = .generate(.es256)) throws -> String {
        var header: [String: JSONValue] = [
            "typ": .string(DPoPProof.type), "alg": .string("ES256"), "jwk": .object(key.publicKey.jwkMembers),
        ]
        for (name, value) in extraHeader { header[name] = value }
        let claims: JSONValue = .object([
            "jti": .string(UUID().uuidString), "htm": .string("GET"), "htu": .string(url),
            "iat": .integer(Int64(now.timeIntervalSince1970)), "ath": .string(DPoPProof.accessTokenHash("tok")),
        ])
        return try JWSSigner.sign(header: header, payload: claims, with: key)
    }

    @Test("header members RFC 9449 does not forbid (kid, say) are accepted; ones that name other keys are not")
    func extraHeaderMembers() throws {
        for extra: [String: JSONValue] in [["kid": .string("my-key")], ["kid": .string("k"), "x-client": .bool(true)]] {
            let verified = try DPoPProof.verify(
                try proof(extraHeader: extra),
                method: "GET",
                url: url,
                accessToken: "tok",
                now: now
            )
            #expect(!verified.keyThumbprint.isEmpty)
        }
        for name in ["jku", "x5u", "x5c", "crit"] {
            let value: JSONValue =
                name == "x5c" || name == "crit" ? .array([.string("x")]) : .string("https://evil.test")
            #expect(throws: VerificationError.proofInvalid("")) {
                try DPoPProof.verify(
                    try proof(extraHeader: [name: value]),
                    method: "GET",
                    url: url,
                    accessToken: "tok",
                    now: now
                )
            }
        }
    }
}

@Suite("DPoP proof-key memory")
struct DPoPProofKeyMemoryTests {
    @Test("a remembered header never excuses a bad signature, and each proof's claims are still checked")
    func signatureAlwaysChecked() throws {
        let key = PrivateKey.generate(.es256)
        let now = Date()
        let url = "https://api.example/v1/things"
        let good = try DPoPProof.create(method: "GET", url: url, key: key, issuedAt: now)
        let first = try DPoPProof.verify(good, method: "GET", url: url, accessToken: nil as String?, now: now)
        #expect(first.keyThumbprint == key.publicKey.thumbprint)
        // The same header (same key), another proof whose signature is damaged.
        let other = try DPoPProof.create(method: "GET", url: url, key: key, issuedAt: now)
        var parts = other.split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        #expect(throws: VerificationError.proofInvalid("")) {
            try DPoPProof.verify(
                parts.joined(separator: "."),
                method: "GET",
                url: url,
                accessToken: nil as String?,
                now: now
            )
        }
        // The same header over claims for another method and another URL.
        #expect(throws: VerificationError.proofInvalid("")) {
            try DPoPProof.verify(other, method: "POST", url: url, accessToken: nil as String?, now: now)
        }
        #expect(throws: VerificationError.proofInvalid("")) {
            try DPoPProof.verify(other, method: "GET", url: url + "/x", accessToken: nil as String?, now: now)
        }
        // A header whose signature is by another key than the one it names.
        let stranger = PrivateKey.generate(.es256)
        let forged = try DPoPProof.create(method: "GET", url: url, key: stranger, issuedAt: now)
        let mixed =
            good.split(separator: ".")[0] + "." + forged.split(separator: ".")[1] + "."
            + forged.split(separator: ".")[2]
        #expect(throws: VerificationError.proofInvalid("")) {
            try DPoPProof.verify(String(mixed), method: "GET", url: url, accessToken: nil as String?, now: now)
        }
        #expect(
            try DPoPProof.verify(other, method: "GET", url: url, accessToken: nil as String?, now: now).id != first.id
        )
    }
}
