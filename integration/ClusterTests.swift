import AsyncHTTPClient
import Foundation
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

/// Three `writ serve` processes on one PostgreSQL database, as behind a load balancer, with resource servers
/// (`WritVerifier`) that each follow one broker.
@Suite("Three brokers on one PostgreSQL", .serialized, .timeLimit(.minutes(4)))
struct ClusterTests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let resource = "https://git.example.org/repos/example-org/writ-demo"

    @Test(
        """
        tasks and tokens across three brokers: made at A, issued at B, its proof a replay at C; the task completed \
        at A is refused by a verifier following C
        """
    )
    func acrossThree() async throws {
        try await Cluster.with(count: 3) { cluster in
            let (a, b, c) = (cluster.clients[0], cluster.clients[1], cluster.clients[2])
            let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
            let follower = Follower(
                following: cluster.brokers[2],
                issuer: cluster.issuer,
                credential: try cluster.operatorToken(),
                http: http
            )
            do {
                let assertion = try cluster.assertion()
                let created = try await a.send(.POST, "/v1/tasks", bearer: assertion, json: MultiBrokerTests.body)
                let task = try #require(created.body.objectValue?["id"]?.stringValue, "\(created.body)")
                let key = PrivateKey.generate(.es256)
                let proof = try cluster.tokenProof(key)
                let issued = try await MultiBrokerTests.tokenRequest(b, task: task, actor: assertion, proof: proof)
                let token = try #require(issued.body.objectValue?["access_token"]?.stringValue, "\(issued.body)")
                let replayed = try await MultiBrokerTests.tokenRequest(c, task: task, actor: assertion, proof: proof)
                #expect(replayed.status == 400 && "\(replayed.body)".contains("proof_replayed"), "\(replayed.body)")

                #expect(
                    try await EndToEndTests.eventually { (try? follower.verify(token, key: key)) != nil },
                    "the verifier following C accepts the token B issued"
                )
                let completed = try await a.send(.POST, "/v1/tasks/\(task)/complete", bearer: assertion)
                #expect(completed.status == 200)
                let refused = try await EndToEndTests.eventually(seconds: 5) {
                    follower.refusal(token, key: key) == .revoked
                }
                #expect(refused, "the completion at A did not reach the verifier following C")
            } catch {
                await follower.stop()
                try? await http.shutdown()
                throw error
            }
            await follower.stop()
            try await http.shutdown()
        }
    }

    @Test(
        """
        rotations at each broker in turn under load: verifiers refreshing every second accept every token any \
        broker issues, and the brokers end publishing the same keys
        """
    )
    func rotationUnderLoad() async throws {
        // Keys are published five seconds before they sign: several times the verifiers' refresh interval plus
        // the brokers' one-second tick, so a machine loaded by three brokers and the load still has slack.
        let configuration = "development: true\ntokens:\n  key_publish_lead: 5\n"
        try await Cluster.with(count: 3, configuration: configuration) { cluster in
            let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
            let keySets = cluster.brokers.map { broker in
                RemoteKeySet(
                    source: HTTPJWKSSource(url: broker.baseURL + "/.well-known/jwks.json", client: http),
                    refreshInterval: 1
                )
            }
            let verifiers = keySets.map { keys in
                TokenVerifier(
                    configuration: .init(issuer: cluster.issuer, audience: "https://git.example.org"),
                    keys: keys
                )
            }
            let tally = Tally()
            let operatorToken = try cluster.operatorToken()
            let assertion = try cluster.assertion()
            let clients = cluster.clients
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for keys in keySets { group.addTask { try await keys.run() } }
                    try await Task.sleep(for: .seconds(1))
                    let end = ContinuousClock.now + .seconds(20)
                    for worker in 0..<6 {
                        group.addTask {
                            var step = worker
                            while ContinuousClock.now < end {
                                step += 1
                                let maker = clients[step % 3]
                                let issuer = clients[(step + 1) % 3]
                                let created = try await maker.send(
                                    .POST,
                                    "/v1/tasks",
                                    bearer: assertion,
                                    json: MultiBrokerTests.body
                                )
                                guard let task = created.body.objectValue?["id"]?.stringValue else {
                                    tally.refused.withLock { $0.append("task: \(created.body)") }
                                    continue
                                }
                                let key = PrivateKey.generate(.es256)
                                let issued = try await MultiBrokerTests.tokenRequest(
                                    issuer,
                                    task: task,
                                    actor: assertion,
                                    proof: try cluster.tokenProof(key)
                                )
                                if let token = issued.body.objectValue?["access_token"]?.stringValue {
                                    do {
                                        _ = try verifiers[(step + 2) % 3].verify(
                                            Presentation(
                                                authorization: "DPoP \(token)",
                                                dpopProof: try DPoPProof.create(
                                                    method: "GET",
                                                    url: Self.resource,
                                                    key: key,
                                                    accessToken: token,
                                                    issuedAt: Date()
                                                ),
                                                url: Self.resource
                                            )
                                        )
                                        tally.verified.withLock { $0 += 1 }
                                        if let kid = Self.keyID(of: token) {
                                            tally.kids.withLock { _ = $0.insert(kid) }
                                        }
                                    } catch {
                                        tally.refused.withLock { $0.append("\(error)") }
                                    }
                                } else {
                                    tally.refused.withLock { $0.append("token: \(issued.body)") }
                                }
                                _ = try await maker.send(.POST, "/v1/tasks/\(task)/complete", bearer: assertion)
                            }
                        }
                    }
                    group.addTask {
                        // A rotation is pending until its key signs, so rotations come one publish lead apart.
                        for round in 0..<3 {
                            try await Task.sleep(for: .seconds(6))
                            let rotated = try await clients[round].send(
                                .POST,
                                "/v1/admin/keys/rotate",
                                bearer: operatorToken
                            )
                            #expect(rotated.status == 201, "rotation \(round) at broker \(round): \(rotated.body)")
                        }
                    }
                    // The load and the rotations end; the key sets' refresh loops are then cancelled.
                    while ContinuousClock.now < end + .seconds(1) { try await Task.sleep(for: .milliseconds(200)) }
                    group.cancelAll()
                }
            } catch is CancellationError {
            } catch {
                try? await http.shutdown()
                throw error
            }
            #expect(tally.refused.withLock { $0 }.isEmpty, "refused: \(tally.refused.withLock { $0.prefix(5) })")
            #expect(tally.verified.withLock { $0 } > 30, "the load made progress")
            #expect(tally.kids.withLock { $0.count } >= 3, "tokens were signed by the rotated-in keys")
            @Sendable func published(_ client: BrokerClient) async throws -> Set<String> {
                let keys =
                    try await client.send(.GET, "/.well-known/jwks.json").body.objectValue?["keys"]?.arrayValue ?? []
                return Set(keys.compactMap { $0.objectValue?["kid"]?.stringValue })
            }
            let same = try await EndToEndTests.eventually {
                let sets = try await [published(clients[0]), published(clients[1]), published(clients[2])]
                return Set(sets).count == 1
            }
            #expect(same, "the brokers publish the same keys")
            try await http.shutdown()
        }
    }
}

extension ClusterTests {
    /// The `kid` in a token's header.
    static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".").first, let bytes = Base64URL.decode(String(header)) else {
            return nil
        }
        return (try? StrictJSON().parse(bytes: bytes))?.objectValue?["kid"]?.stringValue
    }
}

/// What the load saw: refusals, verified tokens and the keys that signed them.
private final class Tally: Sendable {
    let refused = Mutex<[String]>([])
    let verified = Mutex(0)
    let kids = Mutex(Set<String>())
}

/// Brokers sharing one database, one issuer URL and one state directory (keys, development identities).
final class Cluster: Sendable {
    let brokers: [BrokerProcess]
    let clients: [BrokerClient]
    let environment: [String: String]
    /// The issuer every broker names (the first broker's address, as a load balancer's would be).
    var issuer: String { brokers[0].baseURL }

    /// Brokers on a new database of the tests' shared server, or at `url`.
    init(count: Int, database url: String? = nil, extra: [String: String] = [:]) async throws {
        var brokers: [BrokerProcess] = []
        for _ in 0..<count { brokers.append(try BrokerProcess()) }
        let location: String
        if let url {
            location = url
        } else {
            let server = try await PostgreSQLServer.shared()
            location = server.url(database: try await server.createDatabase())
        }
        var environment = [
            "WRIT_DATABASE_URL": location, "WRIT_ISSUER": brokers[0].baseURL,
            "WRIT_STATE_DIR": brokers[0].stateDirectory.appendingPathComponent("state").path,
            "WRIT_RATE_LIMIT": "100000", "WRIT_OPEN_TASKS": "100000",
        ]
        for (name, value) in extra { environment[name] = value }
        self.environment = environment
        self.brokers = brokers
        self.clients = brokers.map { BrokerClient(baseURL: $0.baseURL) }
    }

    /// Runs `body` on a started cluster of `count` brokers, then stops them and removes their state, whether
    /// `body` throws or not.
    static func with<Result: Sendable>(
        count: Int,
        database url: String? = nil,
        configuration: String? = nil,
        _ body: (Cluster) async throws -> Result
    ) async throws -> Result {
        let cluster = try await Cluster(count: count, database: url)
        do {
            try await cluster.start(configuration: configuration)
            let result = try await body(cluster)
            await cluster.shutdown()
            cluster.remove()
            return result
        } catch {
            await cluster.shutdown()
            cluster.remove()
            throw error
        }
    }

    /// Starts every broker, one after another.
    func start(configuration: String? = nil) async throws {
        for broker in brokers { try await broker.start(environment: environment, configuration: configuration) }
    }

    /// A development JWT-SVID for the coding agent.
    func assertion() throws -> String { try brokers[0].workloadAssertion(ClusterTests.coder) }

    /// The first operator's token.
    func operatorToken() throws -> String { try brokers[0].operatorToken() }

    /// A DPoP proof for the cluster's one token endpoint (the issuer's), whichever broker receives it.
    func tokenProof(_ key: PrivateKey) throws -> String {
        try DPoPProof.create(method: "POST", url: issuer + "/v1/token", key: key, issuedAt: Date())
    }

    /// Closes the clients and stops the brokers still running (``with(count:database:configuration:_:)`` does).
    func shutdown() async {
        for client in clients { await client.shutdown() }
        for broker in brokers { _ = try? await broker.stop() }
    }

    /// Kills what still runs and removes the state directories.
    func remove() { for broker in brokers { broker.remove() } }
}

/// A resource server's verifier following one broker: its JWKS and its revocation feed.
struct Follower: Sendable {
    let verifier: TokenVerifier
    private let running: Task<Void, any Error>

    init(following broker: BrokerProcess, issuer: String, credential: String, http: HTTPClient) {
        let keys = RemoteKeySet(
            source: HTTPJWKSSource(url: broker.baseURL + "/.well-known/jwks.json", client: http),
            refreshInterval: 5
        )
        let view = InMemoryRevocationView(maximumStaleness: 30)
        var feed = RevocationFeedClient.Configuration(broker: broker.baseURL)
        feed.credential = .token(credential)
        let client = RevocationFeedClient(configuration: feed, view: view, client: http)
        verifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: "https://git.example.org"),
            keys: keys,
            revocations: view
        )
        running = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await keys.run() }
                group.addTask { try await client.run() }
                try await group.waitForAll()
            }
        }
    }

    /// Verifies a DPoP-bound token for a request to ``ClusterTests/resource``.
    func verify(_ token: String, key: PrivateKey) throws(VerificationError) -> VerifiedAccess {
        let proof: String
        do {
            proof = try DPoPProof.create(
                method: "GET",
                url: ClusterTests.resource,
                key: key,
                accessToken: token,
                issuedAt: Date()
            )
        } catch {
            throw .proofInvalid("the test could not make a proof")
        }
        return try verifier.verify(
            Presentation(authorization: "DPoP \(token)", dpopProof: proof, url: ClusterTests.resource)
        )
    }

    /// Why the verifier refuses the token, or nil when it accepts it.
    func refusal(_ token: String, key: PrivateKey) -> VerificationError.Code? {
        do {
            _ = try verify(token, key: key)
            return nil
        } catch {
            return error.code
        }
    }

    func stop() async {
        running.cancel()
        _ = await running.result
    }
}
