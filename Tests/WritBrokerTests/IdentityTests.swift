import AsyncHTTPClient
import Crypto
import CryptoExtras
import Foundation
import Logging
import Testing
import WritBroker
import WritPolicy
import WritTestSupport
import WritToken

@Suite("Workload and user identity")
struct IdentityTests {
    static let now = Date()

    /// Signs a JWT with an RSA key (RS256), the way Kubernetes signs service-account tokens.
    static func rs256(
        _ payload: [String: JSONValue],
        key: _RSA.Signing.PrivateKey,
        kid: String,
        typ: String? = nil
    ) throws
        -> String
    {
        var header: [String: JSONValue] = ["alg": .string("RS256"), "kid": .string(kid)]
        if let typ { header["typ"] = .string(typ) }
        var input = Array(Base64URL.encode(JSONWriter.bytes(.object(header))).utf8)
        input.append(UInt8(ascii: "."))
        input.append(contentsOf: Base64URL.encode(JSONWriter.bytes(.object(payload))).utf8)
        let signature = try key.signature(for: input, padding: .insecurePKCS1v1_5)
        return String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(signature.rawRepresentation)
    }

    static func jwks(_ key: _RSA.Signing.PrivateKey, kid: String) throws -> String {
        let primitives = try key.publicKey.getKeyPrimitives()
        return JSONWriter.string(
            .object([
                "keys": .array([
                    .object([
                        "kty": .string("RSA"), "kid": .string(kid), "use": .string("sig"),
                        "n": .string(Base64URL.encode(primitives.modulus)),
                        "e": .string(Base64URL.encode(primitives.publicExponent)),
                    ])
                ])
            ])
        )
    }

    static func kubernetesClaims(sub: String = "system:serviceaccount:agents:coder") -> [String: JSONValue] {
        [
            "iss": .string("https://kubernetes.default.svc"), "aud": .array([.string("writ")]), "sub": .string(sub),
            "iat": .integer(now.numericDate), "exp": .integer(now.addingTimeInterval(600).numericDate),
        ]
    }

    @Test("a Kubernetes service-account token (RS256) from a JWKS URL becomes a SPIFFE ID attested as oidc")
    func kubernetesOverHTTP() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let server = try StaticFileServer(files: ["keys.json": try Self.jwks(key, kid: "k8s-1")])
        try await server.start()
        do {
            try await Self.checkKubernetes(key: key, port: server.port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func checkKubernetes(key: _RSA.Signing.PrivateKey, port: Int) async throws {
        let registry = IdentityRegistry(
            workloadIssuers: [
                IdentityIssuer(
                    name: "k8s",
                    kind: .kubernetes,
                    trustDomain: "k8s.example.org",
                    issuer: "https://kubernetes.default.svc",
                    audience: "writ",
                    keys: .url("http://127.0.0.1:\(port)/keys.json")
                )
            ],
            userIssuers: []
        )
        #expect(await registry.refresh(client: .shared, logger: Logger(label: "test")).isEmpty)
        let identity = try registry.authenticateWorkload(
            try Self.rs256(Self.kubernetesClaims(), key: key, kid: "k8s-1"),
            now: Self.now
        )
        #expect(identity.id.description == "spiffe://k8s.example.org/ns/agents/sa/coder")
        #expect(identity.attestation == .oidc)

        var wrongIssuer = Self.kubernetesClaims()
        wrongIssuer["iss"] = .string("https://evil.example")
        #expect(throws: VerificationError.self) {
            try registry.authenticateWorkload(try Self.rs256(wrongIssuer, key: key, kid: "k8s-1"), now: Self.now)
        }
        var wrongAudience = Self.kubernetesClaims()
        wrongAudience["aud"] = .string("vault")
        #expect(throws: VerificationError.wrongAudience("")) {
            try registry.authenticateWorkload(try Self.rs256(wrongAudience, key: key, kid: "k8s-1"), now: Self.now)
        }
        #expect(throws: VerificationError.wrongType("")) {
            try registry.authenticateWorkload(
                try Self.rs256(Self.kubernetesClaims(), key: key, kid: "k8s-1", typ: "at+jwt"),
                now: Self.now
            )
        }
        #expect(throws: VerificationError.malformed("")) {
            try registry.authenticateWorkload(
                try Self.rs256(Self.kubernetesClaims(sub: "system:node:worker-1"), key: key, kid: "k8s-1"),
                now: Self.now
            )
        }
        let stranger = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(throws: VerificationError.badSignature("")) {
            try registry.authenticateWorkload(
                try Self.rs256(Self.kubernetesClaims(), key: stranger, kid: "k8s-1"),
                now: Self.now
            )
        }
        #expect(throws: VerificationError.expired("")) {
            try registry.authenticateWorkload(
                try Self.rs256(Self.kubernetesClaims(), key: key, kid: "k8s-1"),
                now: Self.now.addingTimeInterval(3600)
            )
        }
    }

    @Test("a JWT-SVID must name a SPIFFE ID of its issuer's trust domain, with the key's own algorithm")
    func jwtSVIDRules() throws {
        let key = SigningKey.generate()
        let registry = IdentityRegistry(
            workloadIssuers: [
                IdentityIssuer(
                    name: "spire",
                    kind: .jwtSVID,
                    trustDomain: "example.org",
                    issuer: nil,
                    audience: "writ",
                    keys: .file("/nonexistent")
                )
            ],
            userIssuers: []
        )
        registry.install(IdentityKeySet(keys: [key.id: .standard(key.verificationKey.publicKey)]), for: "spire")
        let good = try DevelopmentIdentity.workloadAssertion(
            for: try SPIFFEID("spiffe://example.org/agents/a"),
            audience: "writ",
            key: key,
            now: Self.now
        )
        #expect(try registry.authenticateWorkload(good, now: Self.now).attestation == .jwtSVID)
        let foreign = try DevelopmentIdentity.workloadAssertion(
            for: try SPIFFEID("spiffe://other.org/agents/a"),
            audience: "writ",
            key: key,
            now: Self.now
        )
        #expect(throws: VerificationError.wrongIssuer("")) { try registry.authenticateWorkload(foreign, now: Self.now) }
        // The same claims signed with an embedded key, or with another algorithm name, are refused.
        let parts = good.split(separator: ".")
        for header in [
            "{\"alg\":\"ES256\",\"kid\":\"\(key.id)\",\"jwk\":{}}", "{\"alg\":\"HS256\",\"kid\":\"\(key.id)\"}",
            "{\"alg\":\"none\",\"kid\":\"\(key.id)\"}",
        ] {
            let forged = Base64URL.encode(Array(header.utf8)) + "." + parts[1] + "." + parts[2]
            #expect(throws: VerificationError.self) { try registry.authenticateWorkload(forged, now: Self.now) }
        }
    }

    @Test("identity keys from a file are reloaded when the file changes")
    func fileReload() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("jwks.json")
        let first = SigningKey(id: "first", privateKey: .generate(.es256))
        let second = SigningKey(id: "second", privateKey: .generate(.es256))
        try DevelopmentIdentity.jwks(first).write(to: file, atomically: true, encoding: .utf8)
        let registry = IdentityRegistry(
            workloadIssuers: [
                IdentityIssuer(
                    name: "file",
                    kind: .jwtSVID,
                    trustDomain: "example.org",
                    issuer: nil,
                    audience: "writ",
                    keys: .file(file.path)
                )
            ],
            userIssuers: []
        )
        let logger = Logger(label: "test")
        await registry.refresh(client: .shared, logger: logger)
        let workload = try SPIFFEID("spiffe://example.org/agents/a")
        let byFirst = try DevelopmentIdentity.workloadAssertion(
            for: workload,
            audience: "writ",
            key: first,
            now: Self.now
        )
        let bySecond = try DevelopmentIdentity.workloadAssertion(
            for: workload,
            audience: "writ",
            key: second,
            now: Self.now
        )
        #expect(try registry.authenticateWorkload(byFirst, now: Self.now).id == workload)
        #expect(throws: VerificationError.unknownKey("")) { try registry.authenticateWorkload(bySecond, now: Self.now) }
        try DevelopmentIdentity.jwks(second).write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(5)],
            ofItemAtPath: file.path
        )
        await registry.refresh(client: .shared, logger: logger, onlyFiles: true)
        #expect(try registry.authenticateWorkload(bySecond, now: Self.now).id == workload)
        #expect(throws: VerificationError.unknownKey("")) { try registry.authenticateWorkload(byFirst, now: Self.now) }
        // A broken file keeps the keys in force.
        try "not json".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(10)],
            ofItemAtPath: file.path
        )
        #expect(await registry.refresh(client: .shared, logger: logger, onlyFiles: true) == ["file"])
        #expect(try registry.authenticateWorkload(bySecond, now: Self.now).id == workload)
    }
}
