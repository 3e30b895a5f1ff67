import Crypto
import Foundation
import PostgresNIO
import WritToken

/// The tokens and used-proofs tables on PostgreSQL.
enum PostgresTokenRows {
    static func insert(_ session: PostgresSession, _ token: IssuedToken) async throws {
        try await session.execute(
            """
            INSERT INTO tokens (jti, task_id, workload, subject, audience, issued_at, expires_at, binding,
                status_list, status_index)
            VALUES (\(token.id), \(token.taskID), \(token.workload), \(token.subject), \(token.audience),
                \(StoredTime.milliseconds(token.issuedAt.wholeSeconds)),
                \(StoredTime.milliseconds(token.expiresAt.wholeSeconds)), \(token.binding), \(token.status?.list),
                \(token.status.map { Int32($0.index) }))
            """
        )
    }

    static func fetch(_ session: PostgresSession, id: String) async throws -> IssuedToken? {
        try await session.row("SELECT * FROM tokens WHERE jti = \(id)").map(record)
    }

    static func list(_ session: PostgresSession, taskID: String) async throws -> [IssuedToken] {
        try await session.rows("SELECT * FROM tokens WHERE task_id = \(taskID) ORDER BY issued_at, jti").map(record)
    }

    private static func record(_ row: PostgresRandomAccessRow) throws -> IssuedToken {
        let list = try row.optionalString("status_list")
        let index = try row["status_index"].decode(Int32?.self)
        return IssuedToken(
            id: try row.string("jti"),
            taskID: try row.string("task_id"),
            workload: try row.string("workload"),
            subject: try row.string("subject"),
            audience: try row.string("audience"),
            issuedAt: try row.date("issued_at"),
            expiresAt: try row.date("expires_at"),
            binding: try row.string("binding"),
            status: list.flatMap { list in index.map { StatusSlot(list: list, index: Int($0)) } }
        )
    }

    static func latestExpiry(_ session: PostgresSession, taskID: String) async throws -> Date? {
        try await session.integer("SELECT MAX(expires_at) FROM tokens WHERE task_id = \(taskID)").map(StoredTime.date)
    }

    static func countLive(_ session: PostgresSession, taskIDs: [String], now: Date) async throws -> Int {
        guard !taskIDs.isEmpty else { return 0 }
        let count = try await session.integer(
            """
            SELECT COUNT(*) FROM tokens AS k WHERE k.task_id = ANY(\(taskIDs))
                AND k.expires_at > \(StoredTime.milliseconds(now.wholeSeconds))
                AND NOT \(unescaped: revokedCondition)
            """
        )
        return Int(count ?? 0)
    }

    static func countLive(_ session: PostgresSession, id: String, now: Date) async throws -> Int {
        let count = try await session.integer(
            """
            SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id
            WHERE k.jti = \(id) AND k.expires_at > \(StoredTime.milliseconds(now.wholeSeconds))
                AND t.state = 'open' AND NOT \(unescaped: revokedCondition)
            """
        )
        return Int(count ?? 0)
    }

    static func countLive(
        _ session: PostgresSession,
        issuedBefore cutoff: Date,
        scope: SPIFFEID?,
        now: Date
    )
        async throws -> Int
    {
        let scope = scope?.description
        let count = try await session.integer(
            """
            SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id
            WHERE k.issued_at < \(StoredTime.milliseconds(cutoff.wholeSeconds))
                AND k.expires_at > \(StoredTime.milliseconds(now.wholeSeconds))
                AND (\(scope)::text IS NULL OR k.workload = \(scope)
                    OR EXISTS (SELECT 1 FROM tasks AS c WHERE c.id = k.task_id
                        AND c.actors::jsonb ? \(scope)::text))
                AND t.state = 'open' AND NOT \(unescaped: revokedCondition)
            """
        )
        return Int(count ?? 0)
    }

    static func isRevoked(_ session: PostgresSession, id: String) async throws -> Bool {
        try await session.row("SELECT \(unescaped: revokedCondition) AS revoked FROM tokens AS k WHERE k.jti = \(id)")?[
            "revoked"
        ].decode(Bool.self) ?? false
    }

    /// Whether the token `k` is covered by a token or issued-before entry (task entries are checked by the
    /// task's state). The same rule as `Revocation.covers`, held to it by the store conformance suite.
    static let revokedCondition = """
        (EXISTS (SELECT 1 FROM revocations AS r WHERE r.kind = 'token' AND r.subject = k.jti)
            OR EXISTS (SELECT 1 FROM revocations AS r WHERE r.kind = 'issued_before' AND k.issued_at < r.before
                AND (r.workload IS NULL OR r.workload = k.workload
                    OR EXISTS (SELECT 1 FROM tasks AS c WHERE c.id = k.task_id AND c.actors::jsonb ? r.workload))))
        """

    static func prune(_ session: PostgresSession, expiredBefore cutoff: Date, limit: Int) async throws -> Int {
        let milliseconds = StoredTime.milliseconds(cutoff.wholeSeconds)
        let tokens = try await session.execute(
            """
            DELETE FROM tokens WHERE jti IN (SELECT jti FROM tokens WHERE expires_at < \(milliseconds)
                LIMIT \(Int64(limit))) RETURNING 1
            """
        )
        let proofs = try await session.execute(
            """
            DELETE FROM dpop_proofs WHERE (expires_at, proof) IN (SELECT expires_at, proof FROM dpop_proofs
                WHERE expires_at < \(milliseconds) ORDER BY expires_at LIMIT \(Int64(limit))) RETURNING 1
            """
        )
        return tokens + proofs
    }

    /// Records a DPoP proof as used; false when it was used before.
    static func insertProof(_ session: PostgresSession, _ proof: UsedProof) async throws -> Bool {
        let digest = ProofRows.digest(keyThumbprint: proof.keyThumbprint, proofID: proof.id)
        return try await session.execute(
            """
            INSERT INTO dpop_proofs (expires_at, proof)
            VALUES (\(StoredTime.milliseconds(proof.expiresAt.wholeSeconds)), \(digest))
            ON CONFLICT DO NOTHING RETURNING 1
            """
        ) == 1
    }
}
