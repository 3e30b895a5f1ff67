import Foundation
import GRDB
import WritToken

/// Token Status Lists in the database: the lists and their next free index, and each token's status, set to
/// 1 in the commit of whatever revokes it.
enum StatusRows {
    /// Takes up to `count` unused indices of the newest list of `keyID`, opening the next epoch's list of `size`
    /// indices when it is full or there is none yet. An index is handed out once, ever.
    static func reserve(_ db: Database, keyID: String, count: Int, size: Int, at date: Date) throws -> StatusBlock {
        let newest = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM status_lists WHERE key_id = ? ORDER BY epoch DESC LIMIT 1"),
            arguments: [keyID]
        ).map(record)
        var list: StatusListRecord
        if let newest, newest.nextIndex < newest.size {
            list = newest
        } else {
            let epoch = (newest?.epoch ?? -1) + 1
            list = StatusListRecord(keyID: keyID, epoch: epoch, size: size, nextIndex: 0, createdAt: date)
            try db.cachedStatement(
                sql: """
                    INSERT INTO status_lists (id, key_id, epoch, size, next_index, created_at)
                    VALUES (?, ?, ?, ?, 0, ?)
                    """
            ).execute(arguments: [list.id, keyID, epoch, size, StoredTime.milliseconds(date)])
        }
        let block = list.block(taking: count)
        try db.cachedStatement(sql: "UPDATE status_lists SET next_index = ? WHERE id = ?").execute(
            arguments: [block.indices.upperBound, list.id]
        )
        return block
    }

    /// A list's record, or nil.
    static func fetch(_ db: Database, id: String) throws -> StatusListRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM status_lists WHERE id = ?"), arguments: [id])
            .map(record)
    }

    /// Every list, by key and epoch.
    static func all(_ db: Database) throws -> [StatusListRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM status_lists ORDER BY key_id, epoch").map(record)
    }

    /// The indices of a list whose tokens are revoked, ascending.
    static func revokedIndices(_ db: Database, list: String) throws -> [Int] {
        try Int.fetchAll(
            db.cachedStatement(
                sql: "SELECT status_index FROM tokens WHERE status_list = ? AND status = 1 ORDER BY status_index"
            ),
            arguments: [list]
        )
    }

    /// Marks the tokens of closed tasks revoked.
    static func markRevoked(_ db: Database, taskIDs: [String]) throws {
        for id in taskIDs {
            try db.cachedStatement(sql: "UPDATE tokens SET status = 1 WHERE task_id = ? AND status = 0").execute(
                arguments: [id]
            )
        }
    }

    /// Marks a token just recorded revoked when an entry already covers it: an issued-before revocation
    /// committed between the token's minting (checked against the broker's view) and its recording.
    static func markIfCovered(_ db: Database, tokenID: String) throws {
        try db.cachedStatement(
            sql: "UPDATE tokens AS k SET status = 1 WHERE k.jti = ? AND \(TokenRows.revokedCondition)"
        ).execute(arguments: [tokenID])
    }

    /// Marks one token revoked.
    static func markRevoked(_ db: Database, tokenID: String) throws {
        try db.cachedStatement(sql: "UPDATE tokens SET status = 1 WHERE jti = ?").execute(arguments: [tokenID])
    }

    /// Marks revoked the unexpired tokens an issued-before entry covers: issued before `cutoff` (the entry's
    /// rounded cutoff), by `scope` or with it in their acting chain when given.
    static func markRevoked(_ db: Database, issuedBefore cutoff: Date, scope: SPIFFEID?, now: Date) throws {
        try db.cachedStatement(
            sql: "UPDATE tokens AS k SET status = 1 WHERE k.status = 0 AND k.issued_at < ? AND k.expires_at > ? "
                + "AND (? IS NULL OR k.workload = ? OR " + TokenRows.actingWorkload("?") + ")"
        ).execute(
            arguments: [
                StoredTime.milliseconds(cutoff.wholeSeconds), StoredTime.milliseconds(now.wholeSeconds),
                scope?.description, scope?.description, scope?.description,
            ]
        )
    }

    /// Marks revoked every token in the lists of a signing key (a key revoked with its tokens).
    static func markRevoked(_ db: Database, signedBy keyID: String) throws {
        try db.cachedStatement(
            sql: "UPDATE tokens SET status = 1 WHERE status = 0 AND status_list IN "
                + "(SELECT id FROM status_lists WHERE key_id = ?)"
        ).execute(arguments: [keyID])
    }

    private static func record(_ row: Row) -> StatusListRecord {
        StatusListRecord(
            keyID: row["key_id"],
            epoch: row["epoch"],
            size: row["size"],
            nextIndex: row["next_index"],
            createdAt: StoredTime.date(row["created_at"])
        )
    }
}
