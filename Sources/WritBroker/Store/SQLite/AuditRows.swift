import Foundation
import GRDB
import WritToken

/// The audit log in the database: appended in the writes it describes, read back and checked.
enum AuditRows {
    /// Appends an entry after the current last one.
    @discardableResult
    static func append(
        _ db: Database,
        event: String,
        actor: String,
        subject: String,
        detail: JSONValue = .object([:]),
        at date: Date
    ) throws -> AuditEntry {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        let anchor =
            last == nil
            ? try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")) : nil
        let previousSequence: Int64 = last?["seq"] ?? anchor?["seq"] ?? 0
        let previousHash: String = last?["hash"] ?? anchor?["hash"] ?? AuditEntry.genesisHash
        let sequence = previousSequence + 1
        let milliseconds = StoredTime.milliseconds(date)
        let hash = AuditEntry.hash(
            sequence: sequence,
            milliseconds: milliseconds,
            event: event,
            actor: actor,
            subject: subject,
            detail: detail,
            previousHash: previousHash
        )
        try db.cachedStatement(
            sql: """
                INSERT INTO audit (seq, at_ms, event, actor, subject, detail, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [sequence, milliseconds, event, actor, subject, JSONWriter.string(detail), previousHash, hash]
        )
        return AuditEntry(
            sequence: sequence,
            milliseconds: milliseconds,
            event: event,
            actor: actor,
            subject: subject,
            detail: detail,
            previousHash: previousHash,
            hash: hash
        )
    }

    /// Appends an event.
    @discardableResult
    static func append(_ db: Database, _ event: AuditEvent, at date: Date) throws -> AuditEntry {
        try append(db, event: event.event, actor: event.actor, subject: event.subject, detail: event.detail, at: date)
    }

    /// Entries after a sequence number, oldest first.
    static func list(_ db: Database, after sequence: Int64, limit: Int) throws -> [AuditEntry] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
            arguments: [sequence, limit]
        ).map(entry)
    }

    /// Walks the whole chain from its anchor and names the first entry that was altered, removed or
    /// reordered; nil when the chain is intact. Throws ``AnchorPruned`` for an anchor that was pruned. With
    /// `outside`, the entry it names must also be the one the
    /// log holds (or, once pruned, the chain must have been cut after it).
    static func verify(_ db: Database, against outside: AuditLog.Anchor?) throws -> AuditLog.Break? {
        if let outside {
            let pruned = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")
            let prunedThrough: Int64 = pruned?["seq"] ?? 0
            if outside.sequence < prunedThrough {
                throw AuditLog.AnchorPruned(sequence: outside.sequence, prunedThrough: prunedThrough)
            }
            let stored: String? =
                outside.sequence == prunedThrough
                ? pruned?["hash"]
                : try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [outside.sequence])
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
        return try verify(db)
    }

    /// Walks the chain (against `outside` when given) and counts what it walked.
    static func report(_ db: Database, against outside: AuditLog.Anchor?) throws -> AuditLog.Report {
        let problem = try verify(db, against: outside)
        return AuditLog.Report(
            problem: problem,
            entries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0,
            // Once pruning has removed every entry, the chain still ends at the last one removed (the anchor).
            last: try Int64.fetchOne(
                db,
                sql: "SELECT MAX(seq) FROM (SELECT MAX(seq) AS seq FROM audit UNION ALL SELECT seq FROM audit_anchor)"
            ) ?? 0
        )
    }

    /// Walks the whole chain from its anchor and names the first entry that was altered, removed or
    /// reordered; nil when the chain is intact.
    static func verify(_ db: Database) throws -> AuditLog.Break? {
        let anchor = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")
        var expectedSequence: Int64 = (anchor?["seq"] ?? 0) + 1
        var previousHash: String = anchor?["hash"] ?? AuditEntry.genesisHash
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY rowid")
        while let row = try cursor.next() {
            let entry = try entry(row)
            if entry.sequence != expectedSequence {
                let reason =
                    entry.sequence > expectedSequence
                    ? "entries \(expectedSequence) to \(entry.sequence - 1) are missing" : "entry is out of order"
                return AuditLog.Break(sequence: min(entry.sequence, expectedSequence), reason: reason)
            }
            if !entry.isIntact(after: previousHash) {
                let reason =
                    entry.previousHash == previousHash
                    ? "its content does not match its hash" : "it does not follow the entry before it"
                return AuditLog.Break(sequence: entry.sequence, reason: reason)
            }
            previousHash = entry.hash
            expectedSequence += 1
        }
        // Entries removed from the end leave no break in the chain, but the highest number ever given stays.
        let highest = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'") ?? 0
        if highest >= expectedSequence {
            return AuditLog.Break(
                sequence: expectedSequence,
                reason: "entries \(expectedSequence) to \(highest) are missing"
            )
        }
        return nil
    }

    /// Drops entries older than `cutoff`, keeping the chain checkable: the last dropped entry's sequence and
    /// hash become the anchor the first retained entry must follow.
    @discardableResult
    static func prune(_ db: Database, before cutoff: Date, limit: Int) throws -> Int {
        let milliseconds = StoredTime.milliseconds(cutoff)
        guard
            let last = try Row.fetchOne(
                db,
                sql: "SELECT seq, hash FROM (SELECT seq, hash FROM audit WHERE at_ms < ? ORDER BY seq LIMIT ?) "
                    + "ORDER BY seq DESC LIMIT 1",
                arguments: [milliseconds, limit]
            )
        else { return 0 }
        let sequence: Int64 = last["seq"]
        let hash: String = last["hash"]
        try db.execute(sql: "DELETE FROM audit WHERE seq <= ?", arguments: [sequence])
        let removed = db.changesCount
        try db.execute(
            sql: "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, ?, ?) "
                + "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            arguments: [sequence, hash]
        )
        return removed
    }

    static func entry(_ row: Row) throws -> AuditEntry {
        let detailText: String = row["detail"]
        let detail = (try? StrictJSON().parse(detailText)) ?? .string(detailText)
        return AuditEntry(
            sequence: row["seq"],
            milliseconds: row["at_ms"],
            event: row["event"],
            actor: row["actor"],
            subject: row["subject"],
            detail: detail,
            previousHash: row["prev_hash"],
            hash: row["hash"]
        )
    }
}
