import Foundation
import GRDB
import WritToken

/// The revocation feed in the database. Sequence numbers come from an AUTOINCREMENT key inside the same
/// transaction as the change, so a rolled-back write leaves no gap and a number is never reused.
enum RevocationRows {
    /// Appends an entry and returns it with its sequence number.
    static func insert(
        _ db: Database,
        _ subject: RevocationSubject,
        revokedAt: Date,
        retainUntil: Date,
        actor: String
    ) throws -> Revocation {
        let provisional = Revocation(sequence: 1, subject: subject, revokedAt: revokedAt, retainUntil: retainUntil)
        var kind = ""
        var id: String?
        var before: Int64?
        var workload: String?
        switch provisional.subject {
        case .task(let task): (kind, id) = ("task", task)
        case .token(let token): (kind, id) = ("token", token)
        case .workload(let spiffe): (kind, id) = ("workload", spiffe.description)
        case .user(let user): (kind, id) = ("user", user)
        case .issuedBefore(let cutoff, let scope):
            (kind, before, workload) = ("issued_before", StoredTime.milliseconds(cutoff), scope?.description)
        case .key(let kid): (kind, id) = ("key", kid)
        case .lift(let entry, let from): (kind, id, before) = ("lift", String(entry), StoredTime.milliseconds(from))
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO revocations (kind, subject, before, workload, revoked_at, retain_until, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                kind, id, before, workload, StoredTime.milliseconds(provisional.revokedAt),
                StoredTime.milliseconds(provisional.retainUntil), actor,
            ]
        )
        return Revocation(
            sequence: UInt64(db.lastInsertedRowID),
            subject: provisional.subject,
            revokedAt: provisional.revokedAt,
            retainUntil: provisional.retainUntil
        )
    }

    /// Entries after a sequence number, oldest first.
    static func list(_ db: Database, after sequence: UInt64, limit: Int) throws -> [Revocation] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM revocations WHERE seq > ? ORDER BY seq LIMIT ?"),
            arguments: [Int64(clamping: sequence), limit]
        ).map(revocation)
    }

    /// The unlapsed entries that can refuse a token not yet issued: workload, user, issued-before, key and lift
    /// entries, in order.
    static func listStanding(_ db: Database, now: Date) throws -> [Revocation] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT * FROM revocations WHERE kind IN ('workload', 'user', 'issued_before', 'key', 'lift')
                    AND retain_until > ? ORDER BY seq
                    """
            ),
            arguments: [StoredTime.milliseconds(now.wholeSeconds)]
        ).map(revocation)
    }

    /// The first task entry for a task or token entry for a token, or nil.
    static func fetchCovering(_ db: Database, taskID: String, tokenID: String) throws -> Revocation? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT * FROM revocations WHERE (kind = 'task' AND subject = ?) OR (kind = 'token' AND subject = ?)
                    ORDER BY seq LIMIT 1
                    """
            ),
            arguments: [taskID, tokenID]
        ).map(revocation)
    }

    /// The entry with this sequence number, or nil when there is none (never made, or pruned).
    static func fetch(_ db: Database, sequence: UInt64) throws -> Revocation? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM revocations WHERE seq = ?"),
            arguments: [Int64(clamping: sequence)]
        ).map(revocation)
    }

    /// The entry that lifted an entry, or nil.
    /// The first entry of a kind for a subject, or nil.
    static func fetchFirst(_ db: Database, kind: String, subject: String) throws -> Revocation? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM revocations WHERE kind = ? AND subject = ? ORDER BY seq LIMIT 1"),
            arguments: [kind, subject]
        ).map(revocation)
    }

    static func fetchLift(_ db: Database, of sequence: UInt64) throws -> Revocation? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT * FROM revocations WHERE kind = 'lift' AND subject = ? ORDER BY seq LIMIT 1"
            ),
            arguments: [String(sequence)]
        ).map(revocation)
    }

    /// The highest sequence number ever given, even if that entry was pruned since.
    static func lastSequence(_ db: Database) throws -> UInt64 {
        let stored =
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocations'") ?? 0
        return UInt64(max(stored, 0))
    }

    /// The oldest sequence number still in the feed, or nil when the feed is empty.
    static func firstSequence(_ db: Database) throws -> UInt64? {
        try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM revocations").map { UInt64($0) }
    }

    /// The first unlapsed entry that refuses new tasks to any of these workloads or to this user, or nil.
    /// Read inside the commit that creates a task, so a revocation acknowledged before it is always seen.
    static func fetchRefusing(
        _ db: Database,
        workloads: [SPIFFEID],
        user: String?,
        now: Date
    ) throws -> Revocation? {
        var arguments: [any DatabaseValueConvertible] = workloads.map(\.description)
        let marks = Array(repeating: "?", count: workloads.count).joined(separator: ", ")
        var condition = workloads.isEmpty ? "0" : "(kind = 'workload' AND subject IN (\(marks)))"
        if let user {
            condition += " OR (kind = 'user' AND subject = ?)"
            arguments.append(user)
        }
        arguments.append(StoredTime.milliseconds(now.wholeSeconds))
        return try Row.fetchOne(
            db,
            sql: """
                SELECT * FROM revocations AS r WHERE (\(condition)) AND retain_until > ? AND NOT EXISTS
                (SELECT 1 FROM revocations AS l WHERE l.kind = 'lift' AND l.subject = CAST(r.seq AS TEXT))
                ORDER BY seq LIMIT 1
                """,
            arguments: StatementArguments(arguments)
        ).map(revocation)
    }

    /// Deletes entries whose tokens have all expired before `cutoff`, at most `limit`. Only a prefix of
    /// the feed is ever removed, so the feed stays gapless from its first retained entry on.
    static func prune(
        _ db: Database,
        before cutoff: Date,
        through last: UInt64 = .max,
        limit: Int
    ) throws -> Int {
        // The first entry still needed bounds what may go: everything before it whose retention passed.
        let firstNeeded =
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(seq) FROM revocations WHERE retain_until >= ?"),
                arguments: [StoredTime.milliseconds(cutoff.wholeSeconds)]
            ) ?? Int64.max
        let bound = min(firstNeeded, Int64(clamping: last) + (last == .max ? 0 : 1))
        try db.cachedStatement(
            sql: "DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations WHERE seq < ? ORDER BY seq LIMIT ?)"
        ).execute(
            arguments: [bound, limit]
        )
        return db.changesCount
    }

    static func revocation(_ row: Row) throws -> Revocation {
        let kind: String = row["kind"]
        let id: String? = row["subject"]
        let subject: RevocationSubject
        switch kind {
        case "task": subject = .task(id ?? "")
        case "token": subject = .token(id ?? "")
        case "workload": subject = .workload(try SPIFFEID(id ?? ""))
        case "user": subject = .user(id ?? "")
        case "issued_before":
            let before: Int64 = row["before"]
            let scope = try (row["workload"] as String?).map { try SPIFFEID($0) }
            subject = .issuedBefore(StoredTime.date(before), workload: scope)
        case "key": subject = .key(id ?? "")
        case "lift":
            guard let entry = id.flatMap({ UInt64($0) }) else {
                throw DatabaseError(message: "a stored lift names no entry")
            }
            let from: Int64 = row["before"]
            subject = .lift(entry, from: StoredTime.date(from))
        default: throw DatabaseError(message: "a stored revocation has an unknown kind")
        }
        let sequence: Int64 = row["seq"]
        return Revocation(
            sequence: UInt64(sequence),
            subject: subject,
            revokedAt: StoredTime.date(row["revoked_at"]),
            retainUntil: StoredTime.date(row["retain_until"])
        )
    }
}
