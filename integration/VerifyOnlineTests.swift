import Foundation
import NIOHTTP1
import Testing
import WritBroker
import WritToken

/// `writ verify` says whether it checked revocation: offline it says it did not, and with `--broker` it reads
/// the broker's revocation feed (with the operator token) and refuses a revoked token.
@Suite("writ verify against a running broker", .timeLimit(.minutes(3)))
struct VerifyOnlineTests {
    struct Runs {
        let before: WritRunner.Result
        let offline: WritRunner.Result
        let online: WritRunner.Result
    }

    /// Issues a DPoP-bound token, verifies it with --broker, revokes its task, then verifies it offline and
    /// with --broker again.
    static func runs(_ broker: BrokerProcess, _ client: BrokerClient) async throws -> Runs {
        let coder = try broker.workloadAssertion(OperatorCLITests.coder)
        let task = try await client.send(.POST, "/v1/tasks", bearer: coder, json: OperatorCLITests.readRepository)
        let taskID = try #require(task.body.objectValue?["id"]?.stringValue, "\(task.body)")
        let key = PrivateKey.generate(.es256)
        let issued = try await client.token(task: taskID, actor: coder, key: key)
        let token = try #require(issued.body.objectValue?["access_token"]?.stringValue, "\(issued.body)")
        let resource = "https://git.example.org/example-org/writ-demo"
        let proof = try DPoPProof.create(method: "GET", url: resource, key: key, accessToken: token, issuedAt: Date())
        let jwks = try await client.send(.GET, "/.well-known/jwks.json")
        let jwksFile = broker.stateDirectory.appendingPathComponent("verify-jwks.json")
        try JSONWriter.string(jwks.body).write(to: jwksFile, atomically: true, encoding: .utf8)
        let writ = WritRunner(environment: ["WRIT_OPERATOR_TOKEN_FILE": broker.state.operatorToken.path])
        let verify = [
            "verify", "--jwks", jwksFile.path, "--issuer", broker.baseURL, "--audience", "https://git.example.org",
            "--dpop-proof", proof, "--url", resource, "--trail", token,
        ]
        let before = try await writ.run(verify + ["--broker", broker.baseURL])
        let revoked = try await client.send(
            .POST,
            "/v1/admin/revocations",
            bearer: try broker.operatorToken(),
            json: "{\"kind\":\"task\",\"id\":\"\(taskID)\"}"
        )
        try #require((200...201).contains(revoked.status), "\(revoked.body)")
        return Runs(
            before: before,
            offline: try await writ.run(verify),
            online: try await writ.run(verify + ["--broker", broker.baseURL])
        )
    }

    @Test("a revoked token is valid offline with revocation not checked, and rejected with --broker")
    func revokedToken() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        let client = BrokerClient(baseURL: broker.baseURL)
        let outcome: Result<Runs, any Error>
        do {
            outcome = .success(try await Self.runs(broker, client))
        } catch {
            outcome = .failure(error)
        }
        await client.shutdown()
        try await broker.stop()
        let runs = try outcome.get()
        #expect(runs.before.status == 0, "\(runs.before)")
        #expect(runs.before.stdout.contains("\nrevocation: ok"), "\(runs.before.stdout)")
        #expect(runs.before.stdout.contains("revocation checked against the feed of \(broker.baseURL)"))
        #expect(runs.offline.status == 0, "\(runs.offline)")
        #expect(runs.offline.stdout.contains("\nrevocation: not checked (offline)"), "\(runs.offline.stdout)")
        #expect(!runs.offline.stdout.contains("revocation: ok"))
        #expect(runs.online.status == 1, "\(runs.online)")
        #expect(runs.online.stdout.hasPrefix("rejected: revoked\n"), "\(runs.online.stdout)")
        #expect(runs.online.stdout.contains("\nrevocation: revoked"))
    }
}
