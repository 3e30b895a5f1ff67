import Foundation
import Testing
import WritBroker
import WritToken
import X509

/// Certificates made by the `openssl` command-line tool, not by the project's own code.
@Suite("X.509-SVIDs made by openssl")
struct X509SVIDTests {
    static let script = #"""
        set -e
        cd "$1"
        ca() {
          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
            -days 30 -subj "/O=$2" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectAltName=URI:spiffe://$2" 2>/dev/null
        }
        ext() { printf '%s\n' "$2" > "$1.ext"; }
        leaf() {
          openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
            -subj "/O=workload" 2>/dev/null
          openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 1 \
            -extfile "$1.ext" 2>/dev/null
        }
        good="basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=clientAuth"
        ca ca example.org
        ca other-ca other.org
        ext intermediate "basicConstraints=critical,CA:TRUE
        keyUsage=critical,keyCertSign,cRLSign"
        leaf intermediate ca
        ext valid "$good
        subjectAltName=URI:spiffe://example.org/agents/coder"
        leaf valid ca
        ext two-uris "$good
        subjectAltName=URI:spiffe://example.org/agents/a,URI:spiffe://example.org/agents/b"
        leaf two-uris ca
        ext no-uri "$good
        subjectAltName=DNS:coder.example.org"
        leaf no-uri ca
        ext ca-leaf "basicConstraints=critical,CA:TRUE
        keyUsage=critical,digitalSignature
        subjectAltName=URI:spiffe://example.org/agents/coder"
        leaf ca-leaf ca
        ext not-spiffe "$good
        subjectAltName=URI:https://example.org/agents/coder"
        leaf not-spiffe ca
        ext other-domain "$good
        subjectAltName=URI:spiffe://other.org/agents/coder"
        leaf other-domain ca
        ext unknown-domain "$good
        subjectAltName=URI:spiffe://unknown.org/agents/coder"
        leaf unknown-domain ca
        ext foreign-signed "$good
        subjectAltName=URI:spiffe://example.org/agents/coder"
        leaf foreign-signed other-ca
        ext key-cert-sign "basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature,keyCertSign
        subjectAltName=URI:spiffe://example.org/agents/coder"
        leaf key-cert-sign ca
        ext via-intermediate "$good
        subjectAltName=URI:spiffe://example.org/agents/coder"
        leaf via-intermediate intermediate
        """#

    /// Runs the script in a new folder and returns the folder (polling, so no thread blocks).
    static func makeCertificates() async throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-svid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("make.sh")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path, directory.path]
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        guard process.terminationStatus == 0 else { throw SVIDError(.malformed, "openssl failed") }
        return directory
    }

    static func pem(_ directory: URL, _ name: String) throws -> [Certificate] {
        try TrustBundles.certificates(
            pem: String(contentsOf: directory.appendingPathComponent("\(name).pem"), encoding: .utf8)
        )
    }

    @Test("openssl-made SVIDs: the valid ones are accepted, each defect refused with its own code")
    func openssl() async throws {
        let directory = try await Self.makeCertificates()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundles = TrustBundles()
        bundles.install(try Self.pem(directory, "ca"), for: "example.org")
        bundles.install(try Self.pem(directory, "other-ca"), for: "other.org")
        let validator = X509SVIDValidator(bundles: bundles)
        let now = Date()

        let valid = try await validator.validate(try Self.pem(directory, "valid"), now: now)
        #expect(valid.description == "spiffe://example.org/agents/coder")
        let viaIntermediate = try await validator.validate(
            try Self.pem(directory, "via-intermediate") + Self.pem(directory, "intermediate"),
            now: now
        )
        #expect(viaIntermediate == valid)

        let refusals: [(String, [String], Date, SVIDError.Code)] = [
            ("two URI SANs", ["two-uris"], now, .uriSAN),
            ("no URI SAN", ["no-uri"], now, .uriSAN),
            ("a CA leaf", ["ca-leaf"], now, .caLeaf),
            ("a non-SPIFFE URI", ["not-spiffe"], now, .notSPIFFE),
            ("a trust domain signed by another's CA", ["other-domain"], now, .untrusted),
            ("an unknown trust domain", ["unknown-domain"], now, .unknownTrustDomain),
            ("an expired certificate", ["valid"], now.addingTimeInterval(3 * 86_400), .expired),
            ("a certificate not valid yet", ["valid"], now.addingTimeInterval(-86_400), .notYetValid),
            ("a missing chain", ["via-intermediate"], now, .untrusted),
            ("a certificate signed by another CA", ["foreign-signed"], now, .untrusted),
            ("a leaf with keyCertSign", ["key-cert-sign"], now, .keyUsage),
        ]
        for (name, files, time, code) in refusals {
            var chain: [Certificate] = []
            for file in files { chain += try Self.pem(directory, file) }
            await #expect(throws: SVIDError(code, ""), "\(name)") {
                _ = try await validator.validate(chain, now: time)
            }
        }
        await #expect(throws: SVIDError(.missing, "")) { _ = try await validator.validate([], now: now) }
    }
}

@Suite("Trust bundle reloads")
struct TrustBundleReloadTests {
    @Test("a changed bundle file is loaded, a broken one keeps the roots in force")
    func reload() async throws {
        let directory = try await X509SVIDTests.makeCertificates()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundleFile = directory.appendingPathComponent("bundle.pem")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("other-ca.pem"), to: bundleFile)
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let broker = try await Broker(
            settings: harness.broker.settings,
            stores: harness.broker.stores,
            policies: harness.broker.policies,
            signingKeys: harness.broker.keys.current,
            identities: harness.broker.identities,
            bundleSources: [TrustBundleSource(trustDomain: "example.org", file: bundleFile.path, format: .pem)]
        )
        broker.certificates.reloadTrustBundles()
        let leaf = try X509SVIDTests.pem(directory, "valid")
        let validator = X509SVIDValidator(bundles: broker.certificates.bundles)
        await #expect(throws: SVIDError(.untrusted, "")) { _ = try await validator.validate(leaf, now: Date()) }
        try FileManager.default.removeItem(at: bundleFile)
        try FileManager.default.copyItem(at: directory.appendingPathComponent("ca.pem"), to: bundleFile)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(5)],
            ofItemAtPath: bundleFile.path
        )
        broker.certificates.reloadTrustBundles()
        #expect(try await validator.validate(leaf, now: Date()).description == "spiffe://example.org/agents/coder")
        try "garbage".write(to: bundleFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(10)],
            ofItemAtPath: bundleFile.path
        )
        broker.certificates.reloadTrustBundles()
        #expect(try await validator.validate(leaf, now: Date()).description == "spiffe://example.org/agents/coder")
    }
}
