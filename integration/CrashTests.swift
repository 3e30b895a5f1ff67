import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Synchronization
import Testing
import WritTestSupport
import WritToken

@testable import WritBroker

/// What the broker acknowledged to clients during the crash rounds.
private struct Acknowledged: Sendable {
    var tasks: Set<String> = []
    var closed: [String: String] = [:]
    var revocations: [UInt64: String] = [:]
    var tokens: Set<String> = []
    /// Answers 503 (the database unavailable) and other 5xx answers.
    var unavailable = 0
    var serverErrors = 0
}

/// The acknowledgements, shared by the load workers.
private final class Ledger: Sendable {
    let state = Mutex(Acknowledged())

    /// A signal the load workers check between requests.
    final class Flag: Sendable {
        private let state = Mutex(false)
        var raised: Bool { state.withLock { $0 } }
        func raise() { state.withLock { $0 = true } }
    }
}

@Suite("Crash safety", .serialized, .timeLimit(.minutes(5)))
struct CrashTests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let body = """
        {"type":"implement-change","authorization_details":[{"type":"repository","locations":\
        ["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """

    @Test(
        "kill -9 under issuance and revocation load loses nothing acknowledged and leaves no gap",
        arguments: ["SQLite", "PostgreSQL"]
    )
    func killNineRepeatedly(store: String) async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        let acknowledged = Ledger()
        var environment = ["WRIT_RATE_LIMIT": "100000", "WRIT_OPEN_TASKS": "100000"]
        let postgres = store == "PostgreSQL" ? try await PostgreSQLServer.shared() : nil
        if let postgres {
            environment["WRIT_DATABASE_URL"] = postgres.url(database: try await postgres.createDatabase())
        }
        let rounds = 6
        for round in 0..<rounds {
            try await broker.start(environment: environment)
            let client = BrokerClient(baseURL: broker.baseURL)
            let assertion = try broker.workloadAssertion(Self.coder)
            let operatorToken = try broker.operatorToken()
            let dpopKey = PrivateKey.generate(.es256)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<12 {
                    group.addTask {
                        var step = 0
                        while true {
                            step += 1
                            do {
                                try await Self.load(
                                    client,
                                    issuer: broker.baseURL,
                                    assertion: assertion,
                                    operatorToken: operatorToken,
                                    key: dpopKey,
                                    revoking: (worker + step) % 3 == 0,
                                    into: acknowledged
                                )
                            } catch {
                                return  // the broker is gone
                            }
                        }
                    }
                }
                group.addTask {
                    // Killed at a varying moment, but only once this round has revocations acknowledged (on a
                    // busy machine a fixed delay can end a round before its first one).
                    let before = acknowledged.state.withLock { $0.revocations.count }
                    try await Task.sleep(for: .milliseconds(600 + 250 * (round % 3)))
                    for _ in 0..<50 where acknowledged.state.withLock({ $0.revocations.count }) < before + 5 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await broker.kill9()
                    await client.shutdown()
                }
                try await group.waitForAll()
            }
        }

        let snapshot = acknowledged.state.withLock { $0 }
        #expect(snapshot.tasks.count > 50, "the load should have made progress")
        #expect(snapshot.revocations.count > 20)
        let last: UInt64
        if let url = environment["WRIT_DATABASE_URL"] {
            let database = try await PostgresDatabase(try PostgresLocation(url: url))
            defer { database.close() }
            last = try await Self.verify(BrokerStores.postgres(database), against: snapshot)
        } else {
            let database = try BrokerDatabase(path: broker.state.database.path)
            #expect(try database.integrityCheck() == ["ok"])
            last = try await Self.verify(BrokerStores.sqlite(database), against: snapshot)
        }
        // And the restarted broker serves the same feed.
        try await broker.start(environment: environment)
        let reader = BrokerClient(baseURL: broker.baseURL)
        let page = try await reader.send(.GET, "/v1/revocations?limit=1", bearer: try broker.operatorToken())
        await reader.shutdown()
        #expect(page.body.objectValue?["last"]?.integerValue == Int64(last))
        #expect(last >= snapshot.revocations.keys.max() ?? 0)
        try await broker.stop()
    }

    @Test(
        "kill -9 of random brokers among three, under load at all three, loses nothing acknowledged and leaves no gap"
    )
    func killNineAcrossBrokers() async throws {
        try await Cluster.with(count: 3) { cluster in
            let acknowledged = Ledger()
            for round in 0..<6 {
                let victims = Array(cluster.brokers.shuffled().prefix(Int.random(in: 1...2)))
                try await Self.underLoad(cluster, into: acknowledged) {
                    try await Self.acknowledgedMore(
                        5,
                        than: acknowledged,
                        after: .milliseconds(600 + 250 * (round % 3))
                    )
                    for victim in victims { try await victim.kill9() }
                    // The load goes on at the survivors, and at a broker just killed clients get no answer.
                    try await Task.sleep(for: .milliseconds(500))
                }
                for victim in victims { try await victim.start(environment: cluster.environment) }
            }
            try await Self.verifyCluster(cluster, against: acknowledged)
        }
    }

    @Test(
        """
        PostgreSQL shut down as by a crash, three times, under load at three brokers: no server error but 503, \
        writes served again once it is back, and nothing acknowledged is lost
        """
    )
    func postgresCrash() async throws {
        // Its own server: this one is crashed.
        let server = try await PostgreSQLServer.start()
        do {
            try await Cluster.with(count: 3, database: server.url(database: try await server.createDatabase())) {
                cluster in
                let acknowledged = Ledger()
                for _ in 0..<3 {
                    try await Self.underLoad(cluster, into: acknowledged) {
                        try await Self.acknowledgedMore(5, than: acknowledged, after: .milliseconds(500))
                        try await server.crash()
                        try await Task.sleep(for: .seconds(1))
                        try await server.restart()
                        let served = try await Self.acknowledgedMore(5, than: acknowledged, after: .zero, seconds: 60)
                        #expect(served, "the brokers did not serve again after PostgreSQL came back")
                    }
                }
                try await Self.verifyCluster(cluster, against: acknowledged)
                // A request in flight when PostgreSQL went may be answered 503; one that arrived meanwhile may
                // instead wait for the connection and be served once it is back. Never another server error.
                let answers = acknowledged.state.withLock { ($0.unavailable, $0.serverErrors) }
                #expect(answers.1 == 0, "server errors other than 503 (\(answers.0) were 503)")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Load from twelve clients spread over the cluster's brokers while `disruption` runs; a client whose broker
    /// does not answer moves to the next, as behind a load balancer.
    private static func underLoad(
        _ cluster: Cluster,
        into acknowledged: Ledger,
        while disruption: @escaping @Sendable () async throws -> Void
    ) async throws {
        let assertion = try cluster.assertion()
        let operatorToken = try cluster.operatorToken()
        let stopped = Ledger.Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<12 {
                group.addTask {
                    let key = PrivateKey.generate(.es256)
                    var broker = worker % cluster.clients.count
                    var step = 0
                    while !stopped.raised {
                        step += 1
                        do {
                            try await Self.load(
                                cluster.clients[broker],
                                issuer: cluster.issuer,
                                assertion: assertion,
                                operatorToken: operatorToken,
                                key: key,
                                revoking: (worker + step) % 3 == 0,
                                into: acknowledged
                            )
                        } catch {
                            broker = (broker + 1) % cluster.clients.count
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            group.addTask {
                defer { stopped.raise() }
                try await disruption()
            }
            try await group.waitForAll()
        }
    }

    /// Counts a server error in the ledger (503 apart from the others); returns the reply.
    private static func noted(_ reply: BrokerClient.Reply, in acknowledged: Ledger) -> BrokerClient.Reply {
        if reply.status >= 500 {
            acknowledged.state.withLock {
                if reply.status == 503 { $0.unavailable += 1 } else { $0.serverErrors += 1 }
            }
        }
        return reply
    }

    /// Waits `after`, then until the ledger holds `count` more acknowledged revocations than when called (at most
    /// `seconds`); whether it does.
    @discardableResult
    private static func acknowledgedMore(
        _ count: Int,
        than acknowledged: Ledger,
        after pause: Duration,
        seconds: Int = 5
    ) async throws -> Bool {
        let before = acknowledged.state.withLock { $0.revocations.count }
        try await Task.sleep(for: pause)
        let end = ContinuousClock.now + .seconds(seconds)
        while acknowledged.state.withLock({ $0.revocations.count }) < before + count {
            guard ContinuousClock.now < end else { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// Holds the cluster's database to the ledger, then every broker to the same feed.
    private static func verifyCluster(_ cluster: Cluster, against acknowledged: Ledger) async throws {
        let snapshot = acknowledged.state.withLock { $0 }
        #expect(snapshot.tasks.count > 50, "the load should have made progress")
        #expect(snapshot.revocations.count > 20)
        let database = try await PostgresDatabase(
            try PostgresLocation(url: try #require(cluster.environment["WRIT_DATABASE_URL"]))
        )
        defer { database.close() }
        let last = try await Self.verify(BrokerStores.postgres(database), against: snapshot)
        #expect(last >= snapshot.revocations.keys.max() ?? 0)
        // New clients: the load's may still be backing off from brokers that were killed.
        for broker in cluster.brokers {
            let client = BrokerClient(baseURL: broker.baseURL)
            let page = try? await client.send(.GET, "/v1/revocations?limit=1", bearer: try cluster.operatorToken())
            await client.shutdown()
            #expect(page?.body.objectValue?["last"]?.integerValue == Int64(last), "\(String(describing: page?.body))")
        }
    }

    /// One unit of load: a task, its token, then the task's revocation by an operator or its completion. What
    /// the broker acknowledged goes into the ledger; an answer that is not an acknowledgement (a 503 while the
    /// database is away) is not. Throws only when the broker cannot be reached.
    private static func load(
        _ client: BrokerClient,
        issuer: String,
        assertion: String,
        operatorToken: String,
        key: PrivateKey,
        revoking: Bool,
        into acknowledged: Ledger
    ) async throws {
        let created = Self.noted(
            try await client.send(.POST, "/v1/tasks", bearer: assertion, json: Self.body),
            in: acknowledged
        )
        guard created.status == 201, let id = created.body.objectValue?["id"]?.stringValue else { return }
        acknowledged.state.withLock { _ = $0.tasks.insert(id) }
        let proof = try DPoPProof.create(method: "POST", url: issuer + "/v1/token", key: key, issuedAt: Date())
        let token = Self.noted(
            try await MultiBrokerTests.tokenRequest(client, task: id, actor: assertion, proof: proof),
            in: acknowledged
        )
        if token.status == 200, let text = token.body.objectValue?["access_token"]?.stringValue {
            let jti = try AccessToken.unverifiedClaims(text).tokenID
            acknowledged.state.withLock { _ = $0.tokens.insert(jti) }
        }
        if revoking {
            let revoked = Self.noted(
                try await client.send(
                    .POST,
                    "/v1/admin/revocations",
                    bearer: operatorToken,
                    json: "{\"kind\":\"task\",\"id\":\"\(id)\"}"
                ),
                in: acknowledged
            )
            if revoked.status == 201 { Self.record(revoked.body, task: id, state: "aborted", into: acknowledged) }
        } else {
            let completed = Self.noted(
                try await client.send(.POST, "/v1/tasks/\(id)/complete", bearer: assertion),
                in: acknowledged
            )
            if completed.status == 200 { Self.record(completed.body, task: id, state: "completed", into: acknowledged) }
        }
    }

    /// Holds the stores to every acknowledgement: the feed gapless and complete, every acknowledged task,
    /// transition and token recorded, the audit chain intact. Returns the feed's last number.
    private static func verify(_ stores: BrokerStores, against snapshot: Acknowledged) async throws -> UInt64 {
        let page = try await stores.revocations.page(after: 0, limit: 1_000_000)
        let sequences = page.entries.map(\.sequence)
        #expect(sequences == Array(1...UInt64(sequences.count)), "the feed has a gap")
        let bySequence = Dictionary(uniqueKeysWithValues: page.entries.map { ($0.sequence, $0.subject) })
        for (sequence, task) in snapshot.revocations {
            #expect(bySequence[sequence] == .task(task), "acknowledged revocation \(sequence) is missing")
        }
        for id in snapshot.tasks {
            #expect(try await stores.tasks.fetch(id: id) != nil, "acknowledged task \(id) is missing")
        }
        for (id, state) in snapshot.closed {
            #expect(try await stores.tasks.fetch(id: id)?.state.rawValue == state, "task \(id) lost its transition")
        }
        for jti in snapshot.tokens {
            #expect(try await stores.tokens.fetch(id: jti) != nil, "returned token \(jti) has no record")
        }
        #expect(try await stores.audit.report(against: nil).problem == nil)
        return page.last
    }

    private static func record(_ body: JSONValue, task: String, state: String, into acknowledged: Ledger) {
        let entries = body.objectValue?["revocations"]?.arrayValue ?? []
        acknowledged.state.withLock { acknowledged in
            acknowledged.closed[task] = state
            for entry in entries {
                if let sequence = entry.objectValue?["seq"]?.integerValue,
                    let id = entry.objectValue?["id"]?.stringValue
                {
                    acknowledged.revocations[UInt64(sequence)] = id
                }
            }
        }
    }
}
