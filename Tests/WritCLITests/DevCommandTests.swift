import ArgumentParser
import Foundation
import Testing
import WritBroker
import WritCLI
import WritToken
import X509

@Suite("writ dev")
struct DevCommandTests {
    @Test("writ dev svid writes an SVID the broker's validator accepts, its key 0600, and the CA bundle")
    func svid() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("writ-dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let state = StateDirectory(path: root.appendingPathComponent("state").path)
        try state.prepare()
        let out = root.appendingPathComponent("coder").path
        await #expect(throws: (any Error).self, "no CA yet") {
            var command = try SVIDCommand.parse([
                "spiffe://example.org/agents/coder", "--out", out, "--state", state.url.path,
            ])
            try await command.run()
        }
        _ = try DevelopmentCA.loadOrCreate(in: state, trustDomain: "example.org", now: Date())
        var command = try SVIDCommand.parse([
            "spiffe://example.org/agents/coder", "--out", out, "--state", state.url.path,
        ])
        try await command.run()
        let bundles = TrustBundles()
        bundles.install(
            try TrustBundles.certificates(pem: String(contentsOfFile: out + "/bundle.pem", encoding: .utf8)),
            for: "example.org"
        )
        let chain = try TrustBundles.certificates(pem: String(contentsOfFile: out + "/svid.pem", encoding: .utf8))
        let id = try await X509SVIDValidator(bundles: bundles).validate(chain, now: Date())
        #expect(id.description == "spiffe://example.org/agents/coder")
        let mode =
            try FileManager.default.attributesOfItem(atPath: out + "/svid-key.pem")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test("writ dev workload-token signs a JWT-SVID the development key verifies")
    func workloadToken() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("writ-dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let state = StateDirectory(path: root.path)
        try state.prepare()
        let key = try state.developmentKey(named: DevelopmentIdentity.workloadKeyName)
        let assertion = try DevelopmentIdentity.workloadAssertion(
            for: try SPIFFEID("spiffe://example.org/agents/a"),
            audience: "writ",
            key: key,
            now: Date()
        )
        let verified = try AssertionVerifier(issuer: nil, audience: "writ").verify(
            assertion,
            keys: IdentityKeySet(keys: [key.id: .standard(key.verificationKey.publicKey)]),
            now: Date()
        )
        #expect(verified.subject == "spiffe://example.org/agents/a")
        await #expect(throws: (any Error).self) {
            let command = try WorkloadTokenCommand.parse(["not-a-spiffe-id", "--state", root.path])
            try await command.run()
        }
    }
}
