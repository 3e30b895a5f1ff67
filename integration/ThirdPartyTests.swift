import Foundation
import NIOHTTP1
import Testing
import WritBroker
import WritToken

/// Resource servers in other languages: PyJWT verifies a Writ token against the broker's JWKS, and RFC 7662
/// introspection works with curl.
@Suite("Other languages and tools", .timeLimit(.minutes(3)))
struct ThirdPartyTests {
    static let script = """
        import json, sys
        import jwt
        jwks = json.load(open(sys.argv[1]))
        token = open(sys.argv[2]).read().strip()
        header = jwt.get_unverified_header(token)
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(
            token, jwt.PyJWK(key).key, algorithms=["ES256"], audience=sys.argv[3], issuer=sys.argv[4],
            options={"require": ["exp", "iat", "jti", "sub"]},
        )
        print(json.dumps({"typ": header["typ"], "txn": claims["txn"], "client_id": claims["client_id"]}))
        """

    /// Runs a command and returns its exit status and output, polling for its end.
    static func run(_ arguments: [String], in directory: URL) async throws -> (Int32, String) {
        let output = directory.appendingPathComponent("out-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
    }

    @Test("PyJWT verifies a Writ token against the JWKS and refuses a tampered one; curl introspects it")
    func pyjwtAndCurl() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        let client = BrokerClient(baseURL: broker.baseURL)
        let assertion = try broker.workloadAssertion("spiffe://example.org/agents/coding-agent")
        let task = try await client.send(
            .POST,
            "/v1/tasks",
            bearer: assertion,
            json: """
                {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
                ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
                """
        )
        let taskID = try #require(task.body.objectValue?["id"]?.stringValue)
        let issued = try await client.token(task: taskID, actor: assertion)
        let token = try #require(issued.body.objectValue?["access_token"]?.stringValue)
        let jwks = try await client.send(.GET, "/.well-known/jwks.json")
        await client.shutdown()

        let directory = broker.stateDirectory
        let files = (
            script: directory.appendingPathComponent("verify.py"), jwks: directory.appendingPathComponent("jwks.json"),
            token: directory.appendingPathComponent("token"), tampered: directory.appendingPathComponent("tampered")
        )
        try Self.script.write(to: files.script, atomically: true, encoding: .utf8)
        try JSONWriter.string(jwks.body).write(to: files.jwks, atomically: true, encoding: .utf8)
        try token.write(to: files.token, atomically: true, encoding: .utf8)
        var parts = token.split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        try parts.joined(separator: ".").write(to: files.tampered, atomically: true, encoding: .utf8)

        let verify = ["python3", files.script.path, files.jwks.path]
        let (status, output) = try await Self.run(
            verify + [files.token.path, "https://git.example.org", broker.baseURL],
            in: directory
        )
        #expect(status == 0, "PyJWT refused a valid Writ token: \(output)")
        let verified = (try? StrictJSON().parse(output))?.objectValue ?? [:]
        #expect(verified["typ"]?.stringValue == "at+jwt")
        #expect(verified["txn"]?.stringValue == taskID)
        let (tamperedStatus, _) = try await Self.run(
            verify + [files.tampered.path, "https://git.example.org", broker.baseURL],
            in: directory
        )
        #expect(tamperedStatus != 0, "PyJWT accepted a tampered signature")
        let (wrongAudience, _) = try await Self.run(
            verify + [files.token.path, "https://elsewhere.example", broker.baseURL],
            in: directory
        )
        #expect(wrongAudience != 0, "PyJWT accepted another audience")

        let (curlStatus, introspection) = try await Self.run(
            [
                "curl", "-s", "-X", "POST", broker.baseURL + "/v1/introspect", "-H",
                "Authorization: Bearer \(try broker.operatorToken())", "--data-urlencode", "token=\(token)",
            ],
            in: directory
        )
        #expect(curlStatus == 0)
        let answer = (try? StrictJSON().parse(introspection))?.objectValue ?? [:]
        #expect(answer["active"] == .bool(true))
        #expect(answer["txn"]?.stringValue == taskID)
        try await broker.stop()
    }
}
