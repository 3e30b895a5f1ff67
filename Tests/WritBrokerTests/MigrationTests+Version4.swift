import Foundation
import GRDB
import WritPolicy
import WritToken

@testable import WritBroker

/// A database at schema v4 with rows in every table, written as the broker of that version wrote them: REAL
/// seconds for tasks, keys and operators, INTEGER seconds for tokens, revocations and proofs, INTEGER
/// milliseconds for the audit log. Each time is given with what it must read back as after the migration.
struct Version4Database {
    /// A whole second of the fixture; instants are offsets from it, some with a fraction of a millisecond.
    static let base: Int64 = 1_800_000_000
    /// The whole second an issued-before entry of the fixture cuts at: tokens are issued on either side of it.
    static let cutoff = base + 100
    static let agent = spiffe("agent")
    static let delegate = spiffe("delegate")

    static func at(_ offset: Double) -> Date { Date(timeIntervalSince1970: Double(base) + offset) }
    static func second(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
    /// The instant a number of milliseconds since 1970 names: what a time reads back as after the migration.
    static func milliseconds(_ value: Int64) -> Date { Date(timeIntervalSince1970: Double(value) / 1000) }

    static func spiffe(_ path: String) -> SPIFFEID {
        // The paths above are valid; a typo should stop the suite loudly.
        do { return try SPIFFEID("spiffe://example.org/\(path)") } catch { fatalError("bad SPIFFE ID \(path)") }
    }

    /// A task as the fixture stores it (`stored`) and as it must read back (`expected`).
    struct TaskCase {
        let stored: BrokerTask
        let expected: BrokerTask
    }

    static let tasks: [TaskCase] = {
        let grant = Grant(
            authorizationDetails: [],
            taskDuration: 600,
            tokenLifetime: 300,
            delegationDepth: 1,
            bearerTokensAllowed: false
        )
        func task(_ id: String, parent: String? = nil, workload: SPIFFEID, actors: [SPIFFEID] = []) -> BrokerTask {
            BrokerTask(
                id: id,
                parentID: parent,
                rootID: parent ?? id,
                depth: parent == nil ? 0 : 1,
                workload: workload,
                actors: actors,
                createdBy: actors.first ?? workload,
                attestation: .jwtSVID,
                user: parent == nil ? UserClaims(claims: ["sub": .string("alice")]) : nil,
                type: "review",
                purpose: "review pull request \(id)",
                grant: grant,
                state: .open,
                reason: nil,
                createdAt: at(0.25),
                deadline: at(600.25),
                heartbeatInterval: nil,
                lastHeartbeat: nil,
                closedAt: nil
            )
        }
        // Open, with heartbeats; its last heartbeat has a fraction of a millisecond, which is dropped.
        var root = task("root", workload: agent)
        root.heartbeatInterval = 30
        root.lastHeartbeat = at(12.345_678_9)
        var rootExpected = root
        rootExpected.lastHeartbeat = milliseconds(1_800_000_012_345)
        // A delegated sub-task, open, without heartbeats.
        var child = task("child", parent: "root", workload: delegate, actors: [agent])
        child.createdAt = at(1.5)
        child.deadline = at(300)
        // Closed, with a heartbeat interval of a fraction of a second.
        var done = task("done", workload: agent)
        done.state = .completed
        done.reason = "completed by \(agent)"
        done.createdAt = at(-100.000_1)
        done.heartbeatInterval = 7.5
        done.lastHeartbeat = at(-60)
        done.closedAt = at(-50.000_9)
        var doneExpected = done
        doneExpected.createdAt = milliseconds(1_799_999_899_999)
        doneExpected.closedAt = milliseconds(1_799_999_949_999)
        return [
            TaskCase(stored: root, expected: rootExpected), TaskCase(stored: child, expected: child),
            TaskCase(stored: done, expected: doneExpected),
        ]
    }()

    /// Tokens at whole seconds: on either side of ``cutoff``, a delegate's, and an expired one.
    static let tokens: [IssuedToken] = {
        func token(_ id: String, task: String, workload: SPIFFEID, issued: Int64, expires: Int64) -> IssuedToken {
            IssuedToken(
                id: id,
                taskID: task,
                workload: workload.description,
                subject: task == "child" ? delegate.description : "alice",
                audience: "https://git.example.org",
                issuedAt: second(issued),
                expiresAt: second(expires),
                binding: "dpop:\(id)"
            )
        }
        return [
            token("t-before", task: "root", workload: agent, issued: cutoff - 1, expires: cutoff + 3600),
            token("t-at", task: "root", workload: agent, issued: cutoff, expires: cutoff + 3600),
            token("t-after", task: "root", workload: agent, issued: cutoff + 1, expires: cutoff + 3600),
            token("t-child", task: "child", workload: delegate, issued: cutoff - 1, expires: cutoff + 3600),
            token("t-done", task: "done", workload: agent, issued: base - 90, expires: base - 30),
        ]
    }()

    /// One entry of every kind, as the feed must list them.
    static let revocations: [Revocation] = {
        let subjects: [RevocationSubject] = [
            .task("done"), .token("t-after"), .workload(spiffe("gone")), .user("mallory"),
            .issuedBefore(second(cutoff), workload: nil), .issuedBefore(second(cutoff + 50), workload: spiffe("other")),
            .key("old-kid"), .lift(3, from: second(base + 10)),
        ]
        return subjects.enumerated().map { index, subject in
            Revocation(
                sequence: UInt64(index + 1),
                subject: subject,
                revokedAt: second(base + Int64(index)),
                retainUntil: second(base + 3600 + Int64(index))
            )
        }
    }()

    /// A key retired long ago, one retiring, one waiting to sign: as stored, and as they must read back.
    static let keys: [(stored: SigningKeyRecord, expected: SigningKeyRecord)] = [
        (
            SigningKeyRecord(
                id: "k-gone",
                algorithm: "ES256",
                file: "k-gone.pem",
                createdAt: at(-5000),
                retiredAt: at(-4000.5)
            ),
            SigningKeyRecord(
                id: "k-gone",
                algorithm: "ES256",
                file: "k-gone.pem",
                createdAt: at(-5000),
                retiredAt: at(-4000.5)
            )
        ),
        (
            SigningKeyRecord(
                id: "k-old",
                algorithm: "ES256",
                file: "k-old.pem",
                createdAt: at(-1000.000_5),
                retiresAt: at(200.000_7)
            ),
            SigningKeyRecord(
                id: "k-old",
                algorithm: "ES256",
                file: "k-old.pem",
                createdAt: milliseconds(1_799_998_999_999),
                retiresAt: milliseconds(1_800_000_200_000)
            )
        ),
        (
            SigningKeyRecord(
                id: "k-new",
                algorithm: "EdDSA",
                file: "k-new.pem",
                createdAt: at(-10.25),
                activatesAt: at(100.000_4)
            ),
            SigningKeyRecord(
                id: "k-new",
                algorithm: "EdDSA",
                file: "k-new.pem",
                createdAt: at(-10.25),
                activatesAt: milliseconds(1_800_000_100_000)
            )
        ),
    ]

    static let operators: [(stored: OperatorRecord, expected: OperatorRecord)] = {
        let alice = OperatorRecord(id: "op-1", name: "alice", role: .admin, hash: "h1", createdAt: at(-300.123_4))
        var aliceExpected = alice
        aliceExpected.createdAt = milliseconds(1_799_999_699_876)
        let bob = OperatorRecord(
            id: "op-2",
            name: "bob",
            role: .introspect,
            hash: "h2",
            createdAt: at(-200),
            revokedAt: at(-10.5)
        )
        return [(alice, aliceExpected), (bob, bob)]
    }()

    /// The proof the fixture's token endpoint accepted, by its key's thumbprint and `jti`.
    static let proof = UsedProof(keyThumbprint: "thumb", id: "proof-1", expiresAt: second(cutoff + 300))

    /// Writes the fixture at `path`, migrated up to v4; returns the audit log's last entry.
    static func write(at path: String) throws -> AuditEntry {
        let pool = try DatabasePool(path: path)
        defer { try? pool.close() }
        try BrokerDatabase.migrator.migrate(pool, upTo: "v4")
        return try pool.write { db in
            for task in tasks.map(\.stored) { try insert(task, into: db) }
            for token in tokens {
                try db.execute(
                    sql: """
                        INSERT INTO tokens (jti, task_id, workload, subject, audience, issued_at, expires_at, binding)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        token.id, token.taskID, token.workload, token.subject, token.audience,
                        token.issuedAt.numericDate, token.expiresAt.numericDate, token.binding,
                    ]
                )
            }
            for entry in revocations { try insert(entry, into: db) }
            try db.execute(
                sql: "INSERT INTO dpop_proofs (expires_at, proof) VALUES (?, ?)",
                arguments: [
                    proof.expiresAt.numericDate,
                    ProofRows.digest(keyThumbprint: proof.keyThumbprint, proofID: proof.id),
                ]
            )
            for key in keys.map(\.stored) {
                try db.execute(
                    sql: """
                        INSERT INTO signing_keys (kid, algorithm, file, created_at, activates_at, retires_at, retired_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.id, key.algorithm, key.file, key.createdAt.timeIntervalSince1970,
                        key.activatesAt?.timeIntervalSince1970, key.retiresAt?.timeIntervalSince1970,
                        key.retiredAt?.timeIntervalSince1970,
                    ]
                )
            }
            for record in operators.map(\.stored) {
                try db.execute(
                    sql:
                        "INSERT INTO operators (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        record.id, record.name, record.role.rawValue, record.hash,
                        record.createdAt.timeIntervalSince1970, record.revokedAt?.timeIntervalSince1970,
                    ]
                )
            }
            // The audit table is the same in v4 and v5. Five entries, the first two pruned behind an anchor.
            var last: AuditEntry?
            for index in 1...5 {
                last = try AuditRows.append(
                    db,
                    event: "test.event",
                    actor: "tester",
                    subject: "s\(index)",
                    detail: .object(["n": .integer(Int64(index))]),
                    at: at(Double(index) + 0.000_6)
                )
            }
            try AuditRows.prune(db, before: at(2.5), limit: 10)
            guard let last else { throw DatabaseError(message: "the fixture wrote no audit entry") }
            return last
        }
    }

    private static func insert(_ task: BrokerTask, into db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO tasks (id, parent_id, root_id, depth, workload, actors, created_by, attestation,
                    user_subject, user_claims, type, purpose, grant_json, state, reason, created_at, deadline,
                    heartbeat_interval, last_heartbeat, closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                task.id, task.parentID, task.rootID, task.depth, task.workload.description,
                JSONWriter.string(.array(task.actors.map { .string($0.description) })), task.createdBy.description,
                task.attestation.rawValue, task.user?.subject, task.user.map { JSONWriter.string(.object($0.claims)) },
                task.type, task.purpose, storedGrant(of: task), task.state.rawValue, task.reason,
                task.createdAt.timeIntervalSince1970, task.deadline.timeIntervalSince1970, task.heartbeatInterval,
                task.lastHeartbeat?.timeIntervalSince1970, task.closedAt?.timeIntervalSince1970,
            ]
        )
    }

    private static func insert(_ entry: Revocation, into db: Database) throws {
        var kind = ""
        var subject: String?
        var before: Int64?
        var workload: String?
        switch entry.subject {
        case .task(let id): (kind, subject) = ("task", id)
        case .token(let id): (kind, subject) = ("token", id)
        case .workload(let id): (kind, subject) = ("workload", id.description)
        case .user(let id): (kind, subject) = ("user", id)
        case .issuedBefore(let cutoff, let scope):
            (kind, before, workload) = ("issued_before", cutoff.numericDate, scope?.description)
        case .key(let id): (kind, subject) = ("key", id)
        case .lift(let lifted, let from): (kind, subject, before) = ("lift", String(lifted), from.numericDate)
        }
        try db.execute(
            sql: """
                INSERT INTO revocations (seq, kind, subject, before, workload, revoked_at, retain_until, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'test')
                """,
            arguments: [
                Int64(entry.sequence), kind, subject, before, workload, entry.revokedAt.numericDate,
                entry.retainUntil.numericDate,
            ]
        )
    }
}
