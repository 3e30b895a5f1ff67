import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@testable import WritBroker

/// One definition of "issued before": the broker's counts, its introspection, its operator view and every
/// verifier following the feed agree, at the second's boundary too.
@Suite("Issued-before revocations")
struct IssuedBeforeTests {
    static let git = "https://git.example.org"

    /// How a revocation's time sits against the second the token was issued in.
    enum Cut: String, CaseIterable, Sendable {
        /// `writ revoke before now`, later in the token's second: covers it.
        case laterInTheSameSecond
        /// An explicit time at the start of the token's second: does not cover it.
        case startOfTheSecond
        /// An explicit time at the start of the next second: covers it.
        case startOfTheNextSecond
    }

    @Test(
        "the count, introspection, the operator view and a verifier agree on what a cutoff covers",
        arguments: Cut.allCases
    )
    func agreeAcrossTheBoundary(_ cut: Cut) async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        // Put the clock 0.3 s into a second, so the token's iat is that second rounded down.
        let start = harness.clock.now.timeIntervalSince1970
        harness.clock.advance(by: start.rounded(.up) + 1.3 - start)
        let second = harness.clock.now.timeIntervalSince1970.rounded(.down)
        try await harness.withClient { client async throws in
            let coder = try harness.workload(BrokerHarness.coder)
            let created = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            let task = try #require(created.body["id"]?.string)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: task, actor: coder, audience: Self.git),
                headers: [HTTPField.Name("DPoP")!: try harness.proof()]
            )
            let token = try #require(issued.body["access_token"]?.string)
            let claims = try #require(harness.broker.tokens.verifyOwnToken(token, now: harness.clock.now))
            #expect(claims.issuedAt.timeIntervalSince1970 == second)

            let before: Int64
            switch cut {
            case .laterInTheSameSecond:
                harness.clock.advance(by: 0.4)
                // What `writ revoke before now` sends.
                before = Revocation.cutoff(harness.clock.now).numericDate
            case .startOfTheSecond: before = Int64(second)
            case .startOfTheNextSecond: before = Int64(second) + 1
            }
            let covered = cut != .startOfTheSecond
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: "{\"kind\":\"issued_before\",\"before\":\(before)}"
            )
            #expect(revoked.status == 201)
            #expect(revoked.body["tokens_covered"]?.integerValue == (covered ? 1 : 0))

            let introspected = try await client.form(
                "/v1/introspect",
                [("token", token)],
                bearer: harness.operatorToken
            )
            #expect(introspected.body["active"] == .bool(!covered))

            let shown = try await client.json(.get, "/v1/admin/tasks/\(task)", bearer: harness.operatorToken)
            let tokens = shown.body["tokens"]?.arrayValue ?? []
            #expect(tokens.first?["revoked"] == .bool(covered))

            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            let entries = try (feed.body["revocations"]?.arrayValue ?? []).map { try Revocation(json: $0) }
            let view = InMemoryRevocationView()
            view.apply(entries)
            let status = view.status(of: claims, now: harness.clock.now)
            if covered {
                guard case .revoked = status else {
                    Issue.record("a verifier following the feed accepts a covered token: \(status)")
                    return
                }
            } else {
                #expect(status == .notRevoked)
            }
        }
    }

    @Test("the store's count of covered tokens matches Revocation.covers on generated cases")
    func storeMatchesCovers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try BrokerDatabase(path: directory.appendingPathComponent("writ.sqlite").path)
        let base = 1_800_000_000.0
        var generator = SystemRandomNumberGenerator()
        // Tokens issued every 0.25 s over 10 s, by two workloads.
        let workloads = [try SPIFFEID("spiffe://example.org/a"), try SPIFFEID("spiffe://example.org/b")]
        var tokens: [(IssuedToken, AccessTokenClaims)] = []
        // Every third token is a delegate's: b acting in a task a delegated (`act` = [a]).
        for index in 0..<40 {
            let issuedAt = Date(timeIntervalSince1970: base + Double(index) * 0.25)
            let delegated = index % 3 == 0
            let workload = delegated ? workloads[1] : workloads[index % 2]
            let taskID = delegated ? "task-delegated" : "task"
            let claims = AccessTokenClaims(
                issuer: "https://broker.test",
                subject: workload.description,
                audience: Self.git,
                expiresAt: issuedAt.addingTimeInterval(300),
                issuedAt: issuedAt,
                tokenID: "t\(index)",
                clientID: workload,
                actorChain: delegated ? [workloads[0]] : [],
                taskID: taskID,
                authorizationDetails: []
            )
            let record = IssuedToken(
                id: claims.tokenID,
                taskID: taskID,
                workload: workload.description,
                subject: claims.subject,
                audience: Self.git,
                issuedAt: claims.issuedAt,
                expiresAt: claims.expiresAt,
                binding: "bearer"
            )
            tokens.append((record, claims))
        }
        let records = tokens.map(\.0)
        try await database.write { db in
            for record in records { try TokenRows.insert(db, record) }
            // The delegated task, whose acting chain the store reads.
            try db.execute(
                sql: """
                    INSERT INTO tasks (id, root_id, depth, workload, actors, created_by, attestation, type,
                        grant_json, state, created_at, deadline)
                    VALUES ('task-delegated', 'task-delegated', 1, ?, ?, ?, 'jwt-svid', 't', '{}', 'open', 0, 0)
                    """,
                arguments: [
                    workloads[1].description, "[\"\(workloads[0].description)\"]", workloads[0].description,
                ]
            )
        }
        for _ in 0..<60 {
            // Cutoffs on, just after and just before whole seconds, and anywhere between.
            let offsets = [0.0, 0.001, 0.999, Double.random(in: 0..<1, using: &generator)]
            let time =
                base - 1 + Double(Int.random(in: 0...12, using: &generator))
                + offsets[Int.random(in: 0..<offsets.count, using: &generator)]
            let scope = Bool.random(using: &generator) ? nil : workloads[Int.random(in: 0...1, using: &generator)]
            let entry = Revocation(
                sequence: 1,
                subject: .issuedBefore(Date(timeIntervalSince1970: time), workload: scope),
                revokedAt: Date(timeIntervalSince1970: base),
                retainUntil: Date(timeIntervalSince1970: base + 3600)
            )
            let expected = tokens.filter { entry.covers($0.1) }.map(\.0.id).sorted()
            let counted = try await database.write { db in
                _ = try RevocationRows.insert(
                    db,
                    entry.subject,
                    revokedAt: entry.revokedAt,
                    retainUntil: entry.retainUntil,
                    actor: "test"
                )
                let covered = try
                    (TokenRows.listRevoked(db, taskID: "task")
                    + TokenRows.listRevoked(db, taskID: "task-delegated")).sorted()
                try db.execute(sql: "DELETE FROM revocations")
                return covered
            }
            #expect(counted == expected, "cutoff \(time), workload \(scope?.description ?? "any")")
        }
    }
}
