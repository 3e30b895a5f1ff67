import Foundation
import PostgresNIO
import WritToken

/// The audit chain on PostgreSQL: entries numbered in commit order (the caller holds the write lock), each
/// hashed over the one before it.
enum PostgresAuditRows {
    @discardableResult
    static func append(_ session: PostgresSession, _ event: AuditEvent, at date: Date) async throws -> AuditEntry {
        // The next number and the hash it follows, in one round trip. The entry follows the last one stored
        // (or the anchor of those pruned): numbers are never reused, so entries removed from the end stay a
        // visible gap for `writ audit verify`, and writing goes on.
        guard
            let head = try await session.row(
                """
                WITH next AS (UPDATE writ_sequences SET last = last + 1 WHERE name = 'audit' RETURNING last)
                SELECT next.last AS seq,
                    COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),
                        (SELECT hash FROM audit_anchor WHERE id = 1)) AS previous
                FROM next
                """
            )
        else { throw PostgresStoreError(code: nil, description: "the database has no sequence for audit") }
        let sequence = try head.int64("seq")
        let previousHash = try head.optionalString("previous") ?? AuditEntry.genesisHash
        let milliseconds = StoredTime.milliseconds(date)
        let entry = AuditEntry(
            sequence: sequence,
            milliseconds: milliseconds,
            event: event.event,
            actor: event.actor,
            subject: event.subject,
            detail: event.detail,
            previousHash: previousHash,
            hash: AuditEntry.hash(
                sequence: sequence,
                milliseconds: milliseconds,
                event: event.event,
                actor: event.actor,
                subject: event.subject,
                detail: event.detail,
                previousHash: previousHash
            )
        )
        try await session.execute(
            """
            INSERT INTO audit (seq, at_ms, event, actor, subject, detail, prev_hash, hash)
            VALUES (\(sequence), \(milliseconds), \(entry.event), \(entry.actor), \(entry.subject),
                \(JSONWriter.string(entry.detail)), \(previousHash), \(entry.hash))
            """
        )
        return entry
    }

    static func list(_ session: PostgresSession, after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await session.rows("SELECT * FROM audit WHERE seq > \(sequence) ORDER BY seq LIMIT \(Int64(limit))")
            .map(entry)
    }

    static func report(
        _ session: PostgresSession,
        against outside: AuditLog.Anchor?
    ) async throws
        -> AuditLog.Report
    {
        let problem = try await verify(session, against: outside)
        return AuditLog.Report(
            problem: problem,
            entries: Int(try await session.integer("SELECT COUNT(*) FROM audit") ?? 0),
            // Once pruning has removed every entry, the chain still ends at the last one removed (the anchor).
            last: try await session.integer(
                "SELECT MAX(seq) FROM (SELECT MAX(seq) AS seq FROM audit UNION ALL SELECT seq FROM audit_anchor) AS s"
            ) ?? 0
        )
    }

    private static func verify(
        _ session: PostgresSession,
        against outside: AuditLog.Anchor?
    ) async throws
        -> AuditLog.Break?
    {
        let anchor = try await session.row("SELECT seq, hash FROM audit_anchor WHERE id = 1")
        let prunedThrough = try anchor?.int64("seq") ?? 0
        if let outside {
            if outside.sequence < prunedThrough {
                throw AuditLog.AnchorPruned(sequence: outside.sequence, prunedThrough: prunedThrough)
            }
            let stored =
                outside.sequence == prunedThrough
                ? try anchor?.string("hash")
                : try await session.strings("SELECT hash FROM audit WHERE seq = \(outside.sequence)").first
            guard let stored else {
                return AuditLog.Break(sequence: outside.sequence, reason: "the anchored entry is missing")
            }
            guard stored == outside.hash else {
                return AuditLog.Break(
                    sequence: outside.sequence,
                    reason: "its hash differs from the anchor's: the log was rewritten up to here"
                )
            }
        }
        var expected = prunedThrough + 1
        var previousHash = try anchor?.string("hash") ?? AuditEntry.genesisHash
        if let stray = try await session.integer("SELECT MAX(seq) FROM audit WHERE seq <= \(prunedThrough)") {
            return AuditLog.Break(sequence: stray, reason: "entry is out of order")
        }
        // Page through the chain, a thousand entries at a time, rather than holding it all in memory.
        while true {
            let page = try await list(session, after: expected - 1, limit: 1000)
            if let problem = check(page, expected: &expected, previousHash: &previousHash) { return problem }
            if page.count < 1000 { break }
        }
        // Entries removed from the end leave no break in the chain, but the highest number ever given stays.
        let highest = try await session.lastNumber(of: "audit")
        if highest >= expected {
            return AuditLog.Break(sequence: expected, reason: "entries \(expected) to \(highest) are missing")
        }
        return nil
    }

    private static func check(
        _ page: [AuditEntry],
        expected: inout Int64,
        previousHash: inout String
    )
        -> AuditLog.Break?
    {
        for entry in page {
            if entry.sequence != expected {
                return AuditLog.Break(
                    sequence: expected,
                    reason: "entries \(expected) to \(entry.sequence - 1) are missing"
                )
            }
            if !entry.isIntact(after: previousHash) {
                let reason =
                    entry.previousHash == previousHash
                    ? "its content does not match its hash" : "it does not follow the entry before it"
                return AuditLog.Break(sequence: entry.sequence, reason: reason)
            }
            previousHash = entry.hash
            expected += 1
        }
        return nil
    }

    @discardableResult
    static func prune(_ session: PostgresSession, before cutoff: Date, limit: Int) async throws -> Int {
        guard
            let last = try await session.row(
                """
                SELECT seq, hash FROM (SELECT seq, hash FROM audit WHERE at_ms < \(StoredTime.milliseconds(cutoff))
                    ORDER BY seq LIMIT \(Int64(limit))) AS oldest ORDER BY seq DESC LIMIT 1
                """
            )
        else { return 0 }
        let sequence = try last.int64("seq")
        let hash = try last.string("hash")
        let removed = try await session.execute("DELETE FROM audit WHERE seq <= \(sequence) RETURNING 1")
        try await session.execute(
            """
            INSERT INTO audit_anchor (id, seq, hash) VALUES (1, \(sequence), \(hash))
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
            """
        )
        return removed
    }

    private static func entry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        let detailText = try row.string("detail")
        return AuditEntry(
            sequence: try row.int64("seq"),
            milliseconds: try row.int64("at_ms"),
            event: try row.string("event"),
            actor: try row.string("actor"),
            subject: try row.string("subject"),
            detail: (try? StrictJSON().parse(detailText)) ?? .string(detailText),
            previousHash: try row.string("prev_hash"),
            hash: try row.string("hash")
        )
    }
}
