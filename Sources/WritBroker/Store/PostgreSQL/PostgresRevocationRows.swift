import Foundation
import PostgresNIO
import WritToken

/// The revocation feed's table on PostgreSQL.
enum PostgresRevocationRows {
    /// Appends an entry with the feed's next number (the caller holds the write lock).
    static func insert(
        _ session: PostgresSession,
        _ subject: RevocationSubject,
        revokedAt: Date,
        retainUntil: Date,
        actor: String
    ) async throws -> Revocation {
        let provisional = Revocation(sequence: 1, subject: subject, revokedAt: revokedAt, retainUntil: retainUntil)
        let (kind, id, before, workload) = columns(provisional.subject)
        // Numbered, stored and announced in one round trip; the notification is delivered to every listening
        // broker when (and only if) this transaction commits.
        guard
            let stored = try await session.integer(
                """
                WITH next AS (UPDATE writ_sequences SET last = last + 1 WHERE name = 'revocations' RETURNING last),
                stored AS (
                    INSERT INTO revocations (seq, kind, subject, before, workload, revoked_at, retain_until, actor)
                    SELECT next.last, \(kind), \(id), \(before), \(workload),
                        \(StoredTime.milliseconds(provisional.revokedAt)),
                        \(StoredTime.milliseconds(provisional.retainUntil)), \(actor)
                    FROM next RETURNING seq)
                SELECT stored.seq, pg_notify(\(PostgresFeedNotifier.channel), stored.seq::text) FROM stored
                """
            )
        else { throw PostgresStoreError(code: nil, description: "the database has no sequence for revocations") }
        let sequence = stored
        return Revocation(
            sequence: UInt64(sequence),
            subject: provisional.subject,
            revokedAt: provisional.revokedAt,
            retainUntil: provisional.retainUntil
        )
    }

    /// How a subject is stored: its kind, subject text, `before` time and issued-before scope.
    static func columns(_ subject: RevocationSubject) -> (String, String?, Int64?, String?) {
        switch subject {
        case .task(let task): ("task", task, nil, nil)
        case .token(let token): ("token", token, nil, nil)
        case .workload(let spiffe): ("workload", spiffe.description, nil, nil)
        case .user(let user): ("user", user, nil, nil)
        case .issuedBefore(let cutoff, let scope):
            ("issued_before", nil, StoredTime.milliseconds(cutoff), scope?.description)
        case .key(let kid): ("key", kid, nil, nil)
        case .lift(let entry, let from): ("lift", String(entry), StoredTime.milliseconds(from), nil)
        }
    }

    /// Stores an entry as it is, number included (a store being copied in).
    static func insert(_ session: PostgresSession, copying entry: Revocation, actor: String) async throws {
        let (kind, id, before, workload) = columns(entry.subject)
        try await session.execute(
            """
            INSERT INTO revocations (seq, kind, subject, before, workload, revoked_at, retain_until, actor)
            VALUES (\(Int64(entry.sequence)), \(kind), \(id), \(before), \(workload),
                \(StoredTime.milliseconds(entry.revokedAt)), \(StoredTime.milliseconds(entry.retainUntil)), \(actor))
            """
        )
    }

    static func list(_ session: PostgresSession, after sequence: UInt64, limit: Int) async throws -> [Revocation] {
        try await session.rows(
            "SELECT * FROM revocations WHERE seq > \(Int64(clamping: sequence)) ORDER BY seq LIMIT \(Int64(limit))"
        ).map(revocation)
    }

    static func listStanding(_ session: PostgresSession, now: Date) async throws -> [Revocation] {
        try await session.rows(
            """
            SELECT * FROM revocations WHERE kind IN ('workload', 'user', 'issued_before', 'key', 'lift')
            AND retain_until > \(StoredTime.milliseconds(now.wholeSeconds)) ORDER BY seq
            """
        ).map(revocation)
    }

    static func fetchCovering(
        _ session: PostgresSession,
        taskID: String,
        tokenID: String
    ) async throws
        -> Revocation?
    {
        try await session.row(
            """
            SELECT * FROM revocations WHERE (kind = 'task' AND subject = \(taskID))
                OR (kind = 'token' AND subject = \(tokenID)) ORDER BY seq LIMIT 1
            """
        ).map(revocation)
    }

    static func fetch(_ session: PostgresSession, sequence: UInt64) async throws -> Revocation? {
        try await session.row("SELECT * FROM revocations WHERE seq = \(Int64(clamping: sequence))").map(revocation)
    }

    static func fetchFirst(_ session: PostgresSession, kind: String, subject: String) async throws -> Revocation? {
        try await session.row(
            "SELECT * FROM revocations WHERE kind = \(kind) AND subject = \(subject) ORDER BY seq LIMIT 1"
        ).map(revocation)
    }

    static func firstSequence(_ session: PostgresSession) async throws -> UInt64? {
        try await session.integer("SELECT MIN(seq) FROM revocations").map { UInt64($0) }
    }

    static func lastSequence(_ session: PostgresSession) async throws -> UInt64 {
        UInt64(max(try await session.lastNumber(of: "revocations"), 0))
    }

    static func fetchRefusing(
        _ session: PostgresSession,
        workloads: [SPIFFEID],
        user: String?,
        now: Date
    ) async throws -> Revocation? {
        try await session.row(
            """
            SELECT * FROM revocations AS r
            WHERE ((kind = 'workload' AND subject = ANY(\(workloads.map(\.description))))
                OR (kind = 'user' AND subject = \(user)))
            AND retain_until > \(StoredTime.milliseconds(now.wholeSeconds))
            AND NOT EXISTS (SELECT 1 FROM revocations AS l WHERE l.kind = 'lift' AND l.subject = r.seq::text)
            ORDER BY seq LIMIT 1
            """
        ).map(revocation)
    }

    static func prune(
        _ session: PostgresSession,
        before cutoff: Date,
        through last: UInt64,
        limit: Int
    )
        async throws -> Int
    {
        // The first entry still needed bounds what may go: everything before it whose retention passed.
        let firstNeeded =
            try await session.integer(
                "SELECT MIN(seq) FROM revocations WHERE retain_until >= \(StoredTime.milliseconds(cutoff.wholeSeconds))"
            ) ?? Int64.max
        let bound = min(firstNeeded, Int64(clamping: last) + (last == .max ? 0 : 1))
        return try await session.execute(
            """
            DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations WHERE seq < \(bound) ORDER BY seq
                LIMIT \(Int64(limit))) RETURNING 1
            """
        )
    }

    static func revocation(_ row: PostgresRandomAccessRow) throws -> Revocation {
        let id = try row.optionalString("subject")
        let subject: RevocationSubject
        switch try row.string("kind") {
        case "task": subject = .task(id ?? "")
        case "token": subject = .token(id ?? "")
        case "workload": subject = .workload(try SPIFFEID(id ?? ""))
        case "user": subject = .user(id ?? "")
        case "issued_before":
            let scope = try row.optionalString("workload").map { try SPIFFEID($0) }
            subject = .issuedBefore(try row.date("before"), workload: scope)
        case "key": subject = .key(id ?? "")
        case "lift":
            guard let entry = id.flatMap({ UInt64($0) }) else {
                throw PostgresStoreError(code: nil, description: "a stored lift names no entry")
            }
            subject = .lift(entry, from: try row.date("before"))
        default: throw PostgresStoreError(code: nil, description: "a stored revocation has an unknown kind")
        }
        return Revocation(
            sequence: UInt64(try row.int64("seq")),
            subject: subject,
            revokedAt: try row.date("revoked_at"),
            retainUntil: try row.date("retain_until")
        )
    }
}
