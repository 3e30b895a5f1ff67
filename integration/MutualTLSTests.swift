import Foundation
import NIOHTTP1
import SwiftASN1
import Testing
import WritAgent
import WritBroker
import WritToken
import WritVerifier
import X509

@Suite("Mutual TLS end to end", .timeLimit(.minutes(3)))
struct MutualTLSTests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let task = """
        {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
        ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """
    static let resource = "https://git.example.org/repos/example-org/writ-demo"

    /// Runs curl and returns what it printed, polling for its exit so no thread blocks.
    static func curl(_ arguments: [String], in directory: URL) async throws -> String {
        let output = directory.appendingPathComponent("curl-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "20"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return try String(contentsOf: output, encoding: .utf8)
    }

    /// Writes an SVID issued by a CA into `directory` and returns curl's arguments for it and its DER.
    static func svid(
        _ id: String,
        ca: DevelopmentCA,
        bundle: URL,
        into directory: URL,
        name: String
    ) throws -> (
        [String], [UInt8]
    ) {
        let (certificate, key) = try ca.issue(for: try SPIFFEID(id), now: Date())
        let certificateFile = directory.appendingPathComponent("\(name).pem")
        let keyFile = directory.appendingPathComponent("\(name)-key.pem")
        try DevelopmentCA.pem(certificate).write(to: certificateFile, atomically: true, encoding: .utf8)
        try key.write(to: keyFile, atomically: true, encoding: .utf8)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (
            ["--cert", certificateFile.path, "--key", keyFile.path, "--cacert", bundle.path],
            serializer.serializedBytes
        )
    }

    @Test("an agent with X.509-SVID files picks up each rotation: a bad SVID is refused, the next good one works")
    func agentFollowsRotatedSVIDFiles() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        let ca = try DevelopmentCA.loadOrCreate(in: broker.state, trustDomain: "example.org", now: Date())
        let rogueState = StateDirectory(path: broker.stateDirectory.appendingPathComponent("rogue").path)
        try rogueState.prepare()
        let rogueCA = try DevelopmentCA.loadOrCreate(in: rogueState, trustDomain: "example.org", now: Date())
        let bundle = broker.state.development.appendingPathComponent("ca.pem")
        let certificateFile = broker.stateDirectory.appendingPathComponent("agent-svid.pem")
        let keyFile = broker.stateDirectory.appendingPathComponent("agent-svid-key.pem")
        /// Writes an SVID from `issuer` where the agent reads it, as a SPIFFE helper would on rotation.
        func rotate(to issuer: DevelopmentCA) throws {
            let (certificate, key) = try issuer.issue(for: try SPIFFEID(Self.coder), now: Date())
            try key.write(to: keyFile, atomically: true, encoding: .utf8)
            try DevelopmentCA.pem(certificate).write(to: certificateFile, atomically: true, encoding: .utf8)
        }
        try rotate(to: ca)
        let agent = WritAgent(
            configuration: .init(
                broker: "https://127.0.0.1:\(broker.tlsPort)",
                identity: .x509(certificateFile: certificateFile.path, keyFile: keyFile.path, trustFile: bundle.path)
            )
        )
        let descriptor = AgentTaskDescriptor(
            type: "implement-change",
            authorizationDetails: [
                AuthorizationDetail(
                    type: "repository",
                    actions: ["read"],
                    locations: ["https://git.example.org"],
                    identifier: "example-org/writ-demo"
                )
            ]
        )
        func attempt() async throws -> String {
            try await agent.withTask(descriptor) { task in
                _ = try await task.token(for: "https://git.example.org")
                return task.id
            }
        }
        do {
            #expect(try await attempt().hasPrefix("tsk_"))
            // The files change (a whole second later, so their times differ): the agent's next call uses them.
            try await Task.sleep(for: .milliseconds(1100))
            try rotate(to: rogueCA)
            do {
                _ = try await attempt()
                Issue.record("an SVID from an untrusted CA was accepted: the rotated files were not read")
            } catch let error as WritAgentError {
                guard case .refused(let code, let message, _) = error else { throw error }
                #expect(code == "unauthenticated")
                #expect(message.hasPrefix("svid_untrusted"))
            }
            try await Task.sleep(for: .milliseconds(1100))
            try rotate(to: ca)
            #expect(try await attempt().hasPrefix("tsk_"))
        } catch {
            await agent.shutdown()
            throw error
        }
        await agent.shutdown()
        try await broker.stop()
    }

    static func json(_ text: String) -> [String: JSONValue] { (try? StrictJSON().parse(text))?.objectValue ?? [:] }

    @Test("curl with an SVID gets bound tokens; a resource server using WritVerifier refuses them elsewhere")
    func endToEnd() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        let base = "https://127.0.0.1:\(broker.tlsPort)"
        let directory = broker.stateDirectory
        let ca = try DevelopmentCA.loadOrCreate(in: broker.state, trustDomain: "example.org", now: Date())
        let bundle = broker.state.development.appendingPathComponent("ca.pem")
        let (coder, coderDER) = try Self.svid(Self.coder, ca: ca, bundle: bundle, into: directory, name: "coder")
        let (_, otherDER) = try Self.svid(
            "spiffe://example.org/agents/retrieval-assistant",
            ca: ca,
            bundle: bundle,
            into: directory,
            name: "other"
        )

        // A certificate for the same SPIFFE ID from a CA the broker does not trust is refused with its code.
        let rogueState = StateDirectory(path: directory.appendingPathComponent("rogue").path)
        try rogueState.prepare()
        let rogueCA = try DevelopmentCA.loadOrCreate(in: rogueState, trustDomain: "example.org", now: Date())
        let (rogue, _) = try Self.svid(Self.coder, ca: rogueCA, bundle: bundle, into: directory, name: "rogue")
        let refused = Self.json(
            try await Self.curl(
                rogue + ["-H", "Content-Type: application/json", "-d", Self.task, "\(base)/v1/tasks"],
                in: directory
            )
        )
        #expect(refused["error"]?.stringValue == "unauthenticated")
        #expect(refused["error_description"]?.stringValue?.hasPrefix("svid_untrusted") == true)

        let created = Self.json(
            try await Self.curl(
                coder + ["-H", "Content-Type: application/json", "-d", Self.task, "\(base)/v1/tasks"],
                in: directory
            )
        )
        let taskID = try #require(created["id"]?.stringValue)
        #expect(created["attestation"]?.stringValue == "x509-svid")
        let exchange = [
            "--data-urlencode", "grant_type=\(TokenRequest.grantType)", "--data-urlencode", "task_id=\(taskID)",
            "--data-urlencode", "audience=https://git.example.org",
        ]
        let bound = Self.json(try await Self.curl(coder + exchange + ["\(base)/v1/token"], in: directory))
        let certificateBound = try #require(bound["access_token"]?.stringValue)
        #expect(
            try AccessToken.unverifiedClaims(certificateBound).confirmation
                == .mutualTLS(certificateThumbprint: SHA256Thumbprint.of(coderDER))
        )

        // The resource server: WritVerifier with the broker's JWKS.
        let client = BrokerClient(baseURL: broker.baseURL)
        let jwks = try await client.send(.GET, "/.well-known/jwks.json")
        await client.shutdown()
        let verifier = TokenVerifier(
            configuration: .init(issuer: broker.baseURL, audience: "https://git.example.org"),
            keys: StaticKeySet(try JSONWebKeySet(jsonBytes: JSONWriter.bytes(jwks.body)))
        )
        let ok = try verifier.verify(
            Presentation(authorization: "Bearer \(certificateBound)", url: Self.resource, clientCertificate: coderDER)
        )
        #expect(ok.claims.clientID.description == Self.coder)
        #expect(throws: VerificationError.bindingMismatch(""), "another client certificate") {
            try verifier.verify(
                Presentation(
                    authorization: "Bearer \(certificateBound)",
                    url: Self.resource,
                    clientCertificate: otherDER
                )
            )
        }
        #expect(throws: VerificationError.proofRequired(""), "no client certificate") {
            try verifier.verify(Presentation(authorization: "Bearer \(certificateBound)", url: Self.resource))
        }

        // With a DPoP proof over mutual TLS the token is bound to the proof key instead.
        let key = PrivateKey.generate(.es256)
        let tokenProof = try DPoPProof.create(method: "POST", url: "\(base)/v1/token", key: key, issuedAt: Date())
        let dpop = Self.json(
            try await Self.curl(coder + exchange + ["-H", "DPoP: \(tokenProof)", "\(base)/v1/token"], in: directory)
        )
        #expect(dpop["token_type"]?.stringValue == "DPoP")
        let proofBound = try #require(dpop["access_token"]?.stringValue)
        let proof = try DPoPProof.create(
            method: "GET",
            url: Self.resource,
            key: key,
            accessToken: proofBound,
            issuedAt: Date()
        )
        let presented = Presentation(
            authorization: "DPoP \(proofBound)",
            dpopProof: proof,
            method: "GET",
            url: Self.resource
        )
        #expect(try verifier.verify(presented).claims.taskID == taskID)
        #expect(throws: VerificationError.proofReplayed(""), "a replayed proof") { try verifier.verify(presented) }
        #expect(throws: VerificationError.proofRequired(""), "no proof") {
            try verifier.verify(Presentation(authorization: "DPoP \(proofBound)", method: "GET", url: Self.resource))
        }
        try await broker.stop()
    }

    @Test("behind a TLS-terminating proxy, the forwarded certificate is believed only from the trusted proxies")
    func forwardedCertificate() async throws {
        for (proxies, expected) in [("[127.0.0.1]", 201 as UInt), ("[10.9.8.7]", 401)] {
            let broker = try BrokerProcess()
            defer { broker.remove() }
            try await broker.start(
                configuration: """
                    development: true
                    forwarded_certificate: { header: X-SSL-Client-Cert, trusted_proxies: \(proxies) }
                    """
            )
            let ca = try DevelopmentCA.loadOrCreate(in: broker.state, trustDomain: "example.org", now: Date())
            let (certificate, _) = try ca.issue(for: try SPIFFEID(Self.coder), now: Date())
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let escaped = try DevelopmentCA.pem(certificate).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            let client = BrokerClient(baseURL: broker.baseURL)
            let reply = try await client.send(
                .POST,
                "/v1/tasks",
                json: Self.task,
                headers: [("X-SSL-Client-Cert", escaped)]
            )
            await client.shutdown()
            #expect(reply.status == expected, "trusted proxies \(proxies)")
            if expected == 201 {
                #expect(reply.body.objectValue?["attestation"]?.stringValue == "x509-svid")
            }
            try await broker.stop()
        }
    }
}
