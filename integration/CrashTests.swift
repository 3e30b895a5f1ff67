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
}

/// The acknowledgements, shared by the load workers.
private final class Ledger: Sendable {
    let state = Mutex(Acknowledged())
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
                                let created = try await client.send(
                                    .POST,
                                    "/v1/tasks",
                                    bearer: assertion,
                                    json: Self.body
                                )
                                guard created.status == 201, let id = created.body.objectValue?["id"]?.stringValue
                                else {
                                    continue
                                }
                                acknowledged.state.withLock { _ = $0.tasks.insert(id) }
                                let token = try await client.token(task: id, actor: assertion, key: dpopKey)
                                if token.status == 200, let text = token.body.objectValue?["access_token"]?.stringValue
                                {
                                    let jti = try AccessToken.unverifiedClaims(text).tokenID
                                    acknowledged.state.withLock { _ = $0.tokens.insert(jti) }
                                }
                                if (worker + step) % 3 == 0 {
                                    let revoked = try await client.send(
                                        .POST,
                                        "/v1/admin/revocations",
                                        bearer: operatorToken,
                                        json: "{\"kind\":\"task\",\"id\":\"\(id)\"}"
                                    )
                                    if revoked.status == 201 {
                                        Self.record(revoked.body, task: id, state: "aborted", into: acknowledged)
                                    }
                                } else {
                                    let completed = try await client.send(
                                        .POST,
                                        "/v1/tasks/\(id)/complete",
                                        bearer: assertion
                                    )
                                    if completed.status == 200 {
                                        Self.record(completed.body, task: id, state: "completed", into: acknowledged)
                                    }
                                }
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
