import Foundation
import GRDB
import WritToken

/// Issued tokens in the database.
enum TokenRows {
    /// Records a token.
    static func insert(_ db: Database, _ token: IssuedToken) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO tokens (jti, task_id, workload, subject, audience, issued_at, expires_at, binding,
                    status_list, status_index)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                token.id, token.taskID, token.workload, token.subject, token.audience,
                StoredTime.milliseconds(token.issuedAt.wholeSeconds),
                StoredTime.milliseconds(token.expiresAt.wholeSeconds), token.binding, token.status?.list,
                token.status?.index,
            ]
        )
    }

    /// The record of a token, or nil.
    static func fetch(_ db: Database, id: String) throws -> IssuedToken? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM tokens WHERE jti = ?"), arguments: [id]).map(record)
    }

    /// The recorded tokens of a task, oldest first.
    static func list(_ db: Database, taskID: String) throws -> [IssuedToken] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM tokens WHERE task_id = ? ORDER BY issued_at, jti"),
            arguments: [taskID]
        ).map(record)
    }

    static func record(_ row: Row) -> IssuedToken {
        let list: String? = row["status_list"]
        let index: Int? = row["status_index"]
        return IssuedToken(
            id: row["jti"],
            taskID: row["task_id"],
            workload: row["workload"],
            subject: row["subject"],
            audience: row["audience"],
            issuedAt: StoredTime.date(row["issued_at"]),
            expiresAt: StoredTime.date(row["expires_at"]),
            binding: row["binding"],
            status: list.flatMap { list in index.map { StatusSlot(list: list, index: $0) } }
        )
    }

    /// The latest expiry among a task's tokens, or nil when it has none.
    static func latestExpiry(_ db: Database, taskID: String) throws -> Date? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MAX(expires_at) FROM tokens WHERE task_id = ?"),
            arguments: [taskID]
        )
        .map(StoredTime.date)
    }

    /// How many of these tasks' tokens are unexpired and not already covered by a token or issued-before
    /// revocation.
    static func countLive(_ db: Database, taskIDs: [String], now: Date) throws -> Int {
        var total = 0
        for id in taskIDs {
            total +=
                try Int.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT COUNT(*) FROM tokens AS k WHERE k.task_id = ? AND k.expires_at > ? "
                            + "AND NOT \(revokedCondition)"
                    ),
                    arguments: [id, StoredTime.milliseconds(now.wholeSeconds)]
                ) ?? 0
        }
        return total
    }

    /// 1 when the token is unexpired, its task open and no entry covers it yet; else 0.
    static func countLive(_ db: Database, id: String, now: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: "SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id "
                    + "WHERE k.jti = ? AND k.expires_at > ? AND t.state = 'open' AND NOT \(revokedCondition)"
            ),
            arguments: [id, StoredTime.milliseconds(now.wholeSeconds)]
        ) ?? 0
    }

    /// The unexpired tokens of open tasks issued before `cutoff` (by `scope` or with it in their acting chain,
    /// when given) that no entry covers yet.
    static func countLive(_ db: Database, issuedBefore cutoff: Date, scope: SPIFFEID?, now: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: "SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id "
                    + "WHERE k.issued_at < ? AND k.expires_at > ? AND (? IS NULL OR k.workload = ? OR "
                    + actingWorkload("?") + ") AND t.state = 'open' AND NOT \(revokedCondition)"
            ),
            arguments: [
                StoredTime.milliseconds(cutoff.wholeSeconds), StoredTime.milliseconds(now.wholeSeconds),
                scope?.description, scope?.description, scope?.description,
            ]
        ) ?? 0
    }

    /// The ids of a task's recorded tokens that a token or issued-before revocation covers.
    static func listRevoked(_ db: Database, taskID: String) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT k.jti FROM tokens AS k WHERE k.task_id = ? AND \(revokedCondition)"),
            arguments: [taskID]
        )
    }

    /// Whether an entry in the store covers a recorded token (its task's closure aside).
    static func isRevoked(_ db: Database, id: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT \(revokedCondition) FROM tokens AS k WHERE k.jti = ?"),
            arguments: [id]
        ) ?? false
    }

    /// Whether the token aliased `k` is covered by a token or issued-before revocation (task, workload and user
    /// revocations close its task instead). `r.before` is stored as ``Revocation/cutoff(_:)`` made it and
    /// `issued_at` as the token's whole-second `iat`, both in milliseconds, so `issued_at < before` is exactly
    /// ``Revocation/covers(_:)``.
    static let revokedCondition = """
        (EXISTS (SELECT 1 FROM revocations AS r WHERE r.kind = 'token' AND r.subject = k.jti)
            OR EXISTS (SELECT 1 FROM revocations AS r WHERE r.kind = 'issued_before' AND k.issued_at < r.before
                AND (r.workload IS NULL OR r.workload = k.workload OR \(actingWorkload("r.workload")))))
        """

    /// Whether `workload` (an SQL expression) is in the acting chain (`act`) of the token aliased `k`, as
    /// ``Revocation/covers(_:)`` reads it: the chain is its task's.
    static func actingWorkload(_ workload: String) -> String {
        "EXISTS (SELECT 1 FROM tasks AS c, json_each(c.actors) AS a WHERE c.id = k.task_id AND a.value = \(workload))"
    }

    /// Deletes records of tokens expired before `cutoff`, at most `limit`.
    static func prune(_ db: Database, expiredBefore cutoff: Date, limit: Int) throws -> Int {
        try db.cachedStatement(
            sql: "DELETE FROM tokens WHERE jti IN (SELECT jti FROM tokens WHERE expires_at < ? LIMIT ?)"
        ).execute(
            arguments: [StoredTime.milliseconds(cutoff.wholeSeconds), limit]
        )
        return db.changesCount
    }
}
