import ArgumentParser
import Foundation
import Testing
import WritCLI
import WritTestSupport
import WritToken

@Suite("writ verify")
struct VerifyCommandTests {
    let forge = TokenForge()
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let jwks = try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString
        try Data(jwks.utf8).write(to: directory.appendingPathComponent("jwks.json"))
    }

    func arguments(_ token: String, at time: Date = TestIdentity.now) -> [String] {
        [
            "--jwks", directory.appendingPathComponent("jwks.json").path, "--issuer", TestIdentity.issuer,
            "--audience", TestIdentity.audience, "--at", String(Int(time.timeIntervalSince1970)), token,
        ]
    }

    @Test("a valid token prints valid and its claims, and exits 0")
    func valid() async throws {
        let claims = TestIdentity.claims()
        let outcome = try await VerifyCommand.parse(arguments(forge.token(claims))).evaluate { "" }
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.hasPrefix("valid\n"))
        #expect(outcome.output.contains("txn        \(TestIdentity.taskID)"))
        #expect(outcome.output.contains(claims.tokenID))
    }

    @Test("- reads the token from standard input")
    func standardInput() async throws {
        let token = forge.token()
        let outcome = try await VerifyCommand.parse(arguments("-")).evaluate { token + "\n" }
        #expect(outcome.exitCode == 0)
    }

    @Test("a rejected token prints rejected: CODE with the reason, and exits 1")
    func rejected() async throws {
        let command = try VerifyCommand.parse(arguments(forge.token(), at: TestIdentity.now.addingTimeInterval(3600)))
        let outcome = await command.evaluate { "" }
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.hasPrefix("rejected: expired\nreason: "))
    }

    @Test("--trail prints each check")
    func trail() async throws {
        var args = arguments(forge.token(key: forge.attackerKey))
        args.insert("--trail", at: 0)
        let outcome = try await VerifyCommand.parse(args).evaluate { "" }
        #expect(outcome.output.contains("signature: bad_signature"))
        #expect(outcome.output.contains("key: ok"))
    }

    @Test("offline, the trail and the answer say revocation was not checked, never ok")
    func offlineRevocation() async throws {
        var args = arguments(forge.token())
        args.insert("--trail", at: 0)
        let outcome = try await VerifyCommand.parse(args).evaluate { "" }
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.contains("\nrevocation: not checked (offline)"), "\(outcome.output)")
        #expect(!outcome.output.contains("revocation: ok"))
        #expect(outcome.output.contains("revocation not checked (offline): pass --broker URL"))
        args.insert("--json", at: 0)
        let json = try await VerifyCommand.parse(args).evaluate { "" }
        let members = try #require(try StrictJSON().parse(json.output).objectValue)
        #expect(members["valid"] == .bool(true))
        #expect(members["revocation_checked"] == .bool(false))
        let revocation = members["trail"]?.arrayValue?.last?.objectValue
        #expect(revocation?["check"] == .string("revocation"))
        #expect(revocation?["outcome"] == .string("not_checked"))
    }

    @Test("with --broker, a broker that cannot be reached exits 3 and the token is not called valid")
    func unreachableBroker() async throws {
        var args = arguments(forge.token())
        args.insert(contentsOf: ["--broker", "http://127.0.0.1:1"], at: 0)
        let outcome = try await VerifyCommand.parse(args).evaluate(environment: ["WRIT_OPERATOR_TOKEN": "wop_test"]) {
            ""
        }
        #expect(outcome.exitCode == 3, "\(outcome.output)")
        #expect(!outcome.output.contains("valid\n"))
    }

    @Test("an unreadable or unusable JWKS exits 2 and says what to fix")
    func unusableJWKS() async throws {
        var args = arguments(forge.token())
        args[1] = "/nonexistent/jwks.json"
        let missing = try await VerifyCommand.parse(args).evaluate { "" }
        #expect(missing.exitCode == 2)
        #expect(missing.output.contains("check the path"))
        try Data("{}".utf8).write(to: directory.appendingPathComponent("bad.json"))
        args[1] = directory.appendingPathComponent("bad.json").path
        #expect(try await VerifyCommand.parse(args).evaluate { "" }.exitCode == 2)
    }
}

@Suite("writ keys generate")
struct GenerateKeyCommandTests {
    @Test(
        "writes a 0600 PKCS#8 key and a JWKS whose kid is the thumbprint, and refuses to overwrite",
        arguments: [
            "ES256", "EdDSA",
        ]
    )
    func generate(algorithm: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-keys-\(UUID().uuidString)")
        let command = try GenerateKeyCommand.parse(["--alg", algorithm, "--out", directory.path])
        #expect(try command.generate().exitCode == 0)
        let keyPath = directory.appendingPathComponent("signing-key.pem").path
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = try PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
        let jwks = try JSONWebKeySet(
            jsonBytes: Array(try Data(contentsOf: directory.appendingPathComponent("jwks.json")))
        )
        #expect(jwks.key(id: key.publicKey.thumbprint)?.publicKey == key.publicKey)
        #expect(try command.generate().exitCode == 2)
    }

    @Test("an unknown algorithm is refused")
    func unknownAlgorithm() throws {
        let command = try GenerateKeyCommand.parse(["--alg", "HS256", "--out", "/tmp/never"])
        #expect(try command.generate().exitCode == 2)
    }
}
