public import Foundation
public import GRDB
public import WritToken

/// Appends to and checks the audit table. Appends run inside the write that makes the change they record,
/// so a change and its audit entry are committed together or not at all.
public enum AuditLog {
    /// Appends an entry after the current last one.
    @discardableResult
    public static func append(
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
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
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

    /// Entries after a sequence number, oldest first.
    public static func list(_ db: Database, after sequence: Int64, limit: Int) throws -> [AuditEntry] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
            arguments: [sequence, limit]
        ).map(entry)
    }

    /// Where the chain is broken, if it is.
    public struct Break: Error, Sendable, Hashable, CustomStringConvertible {
        /// The first entry that does not verify, or the position where one is missing.
        public let sequence: Int64
        /// What is wrong there.
        public let reason: String
        public var description: String { "audit chain broken at entry \(sequence): \(reason)" }
    }

    /// An entry's position and hash, kept outside the broker (the last line of an export): the log must still
    /// hold exactly that entry, so rewriting the whole table and recomputing every hash is caught.
    public struct Anchor: Sendable, Hashable {
        /// The entry's sequence number.
        public let sequence: Int64
        /// Its hash.
        public let hash: String

        /// An anchor.
        public init(sequence: Int64, hash: String) {
            self.sequence = sequence
            self.hash = hash
        }
    }

    /// An anchor older than the pruning horizon: it can no longer be checked (which says nothing of tampering).
    public struct AnchorPruned: Error, Sendable, Hashable, CustomStringConvertible {
        /// The anchor's entry.
        public let sequence: Int64
        /// The last entry pruned.
        public let prunedThrough: Int64

        /// The error for an anchor at `sequence` when entries through `prunedThrough` are gone.
        public init(sequence: Int64, prunedThrough: Int64) {
            self.sequence = sequence
            self.prunedThrough = prunedThrough
        }

        public var description: String {
            "entries through \(prunedThrough) were pruned, so an anchor at entry \(sequence) can no longer be "
                + "checked; use a later export"
        }
    }

    /// Walks the whole chain from its anchor and names the first entry that was altered, removed or
    /// reordered; nil when the chain is intact. Throws ``AnchorPruned`` for an anchor that was pruned. With
    /// `outside`, the entry it names must also be the one the
    /// log holds (or, once pruned, the chain must have been cut after it).
    public static func verify(_ db: Database, against outside: Anchor?) throws -> Break? {
        if let outside {
            let pruned = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")
            let prunedThrough: Int64 = pruned?["seq"] ?? 0
            if outside.sequence < prunedThrough {
                throw AnchorPruned(sequence: outside.sequence, prunedThrough: prunedThrough)
            }
            let stored: String? =
                outside.sequence == prunedThrough
                ? pruned?["hash"]
                : try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [outside.sequence])
            guard let stored else {
                return Break(sequence: outside.sequence, reason: "the anchored entry is missing")
            }
            guard stored == outside.hash else {
                return Break(
                    sequence: outside.sequence,
                    reason: "its hash differs from the anchor's: the log was rewritten up to here"
                )
            }
        }
        return try verify(db)
    }

    /// What a walk of the chain found, as the admin API and `writ audit verify` report it.
    public struct Report: Sendable, Hashable {
        /// The first break, or nil when the chain is intact.
        public let problem: Break?
        /// How many entries were walked.
        public let entries: Int
        /// The last sequence number.
        public let last: Int64

        /// A report.
        public init(problem: Break?, entries: Int, last: Int64) {
            self.problem = problem
            self.entries = entries
            self.last = last
        }

        /// `intact`, `entries`, `last`, and when broken `broken_at` and `reason`.
        public var json: JSONValue {
            var body: [String: JSONValue] = [
                "intact": .bool(problem == nil), "entries": .integer(Int64(entries)), "last": .integer(last),
            ]
            if let problem {
                body["broken_at"] = .integer(problem.sequence)
                body["reason"] = .string(problem.reason)
            }
            return .object(body)
        }
    }

    /// Walks the chain (against `outside` when given) and counts what it walked.
    public static func report(_ db: Database, against outside: Anchor?) throws -> Report {
        let problem = try verify(db, against: outside)
        return Report(
            problem: problem,
            entries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0,
            last: try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
        )
    }

    /// Checks exported entries on their own: consecutive, each hash right and each following the one before
    /// (the first is taken as it is, since its predecessor is not in the export). Nil when they are intact.
    public static func verify(exported entries: [AuditEntry]) -> Break? {
        var previous: AuditEntry?
        for entry in entries {
            if let previous {
                if entry.sequence != previous.sequence + 1 {
                    let reason =
                        entry.sequence > previous.sequence + 1
                        ? "entries \(previous.sequence + 1) to \(entry.sequence - 1) are missing"
                        : "entry is out of order"
                    return Break(sequence: min(entry.sequence, previous.sequence + 1), reason: reason)
                }
                if entry.previousHash != previous.hash {
                    return Break(sequence: entry.sequence, reason: "it does not follow the entry before it")
                }
            }
            if !entry.isIntact(after: entry.previousHash) {
                return Break(sequence: entry.sequence, reason: "its content does not match its hash")
            }
            previous = entry
        }
        return nil
    }

    /// Walks the whole chain from its anchor and names the first entry that was altered, removed or
    /// reordered; nil when the chain is intact.
    public static func verify(_ db: Database) throws -> Break? {
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
                return Break(sequence: min(entry.sequence, expectedSequence), reason: reason)
            }
            if !entry.isIntact(after: previousHash) {
                let reason =
                    entry.previousHash == previousHash
                    ? "its content does not match its hash" : "it does not follow the entry before it"
                return Break(sequence: entry.sequence, reason: reason)
            }
            previousHash = entry.hash
            expectedSequence += 1
        }
        // Entries removed from the end leave no break in the chain, but the highest number ever given stays.
        let highest = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'") ?? 0
        if highest >= expectedSequence {
            return Break(sequence: expectedSequence, reason: "entries \(expectedSequence) to \(highest) are missing")
        }
        return nil
    }

    /// Drops entries older than `cutoff`, keeping the chain checkable: the last dropped entry's sequence and
    /// hash become the anchor the first retained entry must follow.
    @discardableResult
    public static func prune(_ db: Database, before cutoff: Date, limit: Int) throws -> Int {
        let milliseconds = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
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

    private static func entry(_ row: Row) throws -> AuditEntry {
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
