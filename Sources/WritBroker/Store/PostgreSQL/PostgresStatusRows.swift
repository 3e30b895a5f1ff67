import Foundation
import PostgresNIO
import WritToken

/// Token Status Lists on PostgreSQL: the lists and their next free index, and each token's status, set to 1
/// in the commit of whatever revokes it.
enum PostgresStatusRows {
    /// Takes up to `count` unused indices of the newest list of `keyID`, opening the next epoch's list when it
    /// is full or there is none. Runs under the write lock, so two brokers never take the same index.
    static func reserve(
        _ session: PostgresSession,
        keyID: String,
        count: Int,
        size: Int,
        at date: Date
    ) async throws -> StatusBlock {
        let newest = try await session.row(
            "SELECT * FROM status_lists WHERE key_id = \(keyID) ORDER BY epoch DESC LIMIT 1"
        ).map(record)
        var list: StatusListRecord
        if let newest, newest.nextIndex < newest.size {
            list = newest
        } else {
            let epoch = (newest?.epoch ?? -1) + 1
            list = StatusListRecord(keyID: keyID, epoch: epoch, size: size, nextIndex: 0, createdAt: date)
            _ = try await session.execute(
                """
                INSERT INTO status_lists (id, key_id, epoch, size, next_index, created_at)
                VALUES (\(list.id), \(keyID), \(Int32(epoch)), \(Int32(size)), 0, \(StoredTime.milliseconds(date)))
                """
            )
        }
        let block = list.block(taking: count)
        _ = try await session.execute(
            "UPDATE status_lists SET next_index = \(Int32(block.indices.upperBound)) WHERE id = \(list.id)"
        )
        return block
    }

    /// Copies lists and revoked statuses from another store (`writ store migrate`).
    static func insert(_ session: PostgresSession, copying lists: [StatusListRecord], revoked: [String]) async throws {
        for list in lists {
            _ = try await session.execute(
                """
                INSERT INTO status_lists (id, key_id, epoch, size, next_index, created_at)
                VALUES (\(list.id), \(list.keyID), \(Int32(list.epoch)), \(Int32(list.size)),
                    \(Int32(list.nextIndex)), \(StoredTime.milliseconds(list.createdAt)))
                """
            )
        }
        if !revoked.isEmpty {
            _ = try await session.execute("UPDATE tokens SET status = 1 WHERE jti = ANY(\(revoked))")
        }
    }

    /// Every list, by key and epoch.
    static func all(_ session: PostgresSession) async throws -> [StatusListRecord] {
        try await session.rows("SELECT * FROM status_lists ORDER BY key_id COLLATE \"C\", epoch").map(record)
    }

    static func fetch(_ session: PostgresSession, id: String) async throws -> StatusListRecord? {
        try await session.row("SELECT * FROM status_lists WHERE id = \(id)").map(record)
    }

    static func revokedIndices(_ session: PostgresSession, list: String) async throws -> [Int] {
        try await session.rows(
            "SELECT status_index FROM tokens WHERE status_list = \(list) AND status = 1 ORDER BY status_index"
        ).map { Int(try $0[0].decode(Int32.self)) }
    }

    static func markRevoked(_ session: PostgresSession, taskIDs: [String]) async throws {
        guard !taskIDs.isEmpty else { return }
        _ = try await session.execute(
            "UPDATE tokens SET status = 1 WHERE task_id = ANY(\(taskIDs)) AND status = 0"
        )
    }

    /// Marks a token just recorded revoked when an entry already covers it (an issued-before revocation committed
    /// between the token's minting and its recording).
    static func markIfCovered(_ session: PostgresSession, tokenID: String) async throws {
        _ = try await session.execute(
            """
            UPDATE tokens AS k SET status = 1 WHERE k.jti = \(tokenID)
                AND \(unescaped: PostgresTokenRows.revokedCondition)
            """
        )
    }

    static func markRevoked(_ session: PostgresSession, tokenID: String) async throws {
        _ = try await session.execute("UPDATE tokens SET status = 1 WHERE jti = \(tokenID)")
    }

    /// The tokens an issued-before entry covers, as `PostgresTokenRows.revokedCondition` reads it.
    static func markRevoked(
        _ session: PostgresSession,
        issuedBefore cutoff: Date,
        scope: SPIFFEID?,
        now: Date
    ) async throws {
        let scope = scope?.description
        _ = try await session.execute(
            """
            UPDATE tokens AS k SET status = 1 WHERE k.status = 0
                AND k.issued_at < \(StoredTime.milliseconds(cutoff.wholeSeconds))
                AND k.expires_at > \(StoredTime.milliseconds(now.wholeSeconds))
                AND (\(scope)::text IS NULL OR k.workload = \(scope)
                    OR EXISTS (SELECT 1 FROM tasks AS c WHERE c.id = k.task_id AND c.actors::jsonb ? \(scope)::text))
            """
        )
    }

    static func markRevoked(_ session: PostgresSession, signedBy keyID: String) async throws {
        _ = try await session.execute(
            """
            UPDATE tokens SET status = 1 WHERE status = 0
                AND status_list IN (SELECT id FROM status_lists WHERE key_id = \(keyID))
            """
        )
    }

    private static func record(_ row: PostgresRandomAccessRow) throws -> StatusListRecord {
        StatusListRecord(
            keyID: try row.string("key_id"),
            epoch: Int(try row["epoch"].decode(Int32.self)),
            size: Int(try row["size"].decode(Int32.self)),
            nextIndex: Int(try row["next_index"].decode(Int32.self)),
            createdAt: try row.date("created_at")
        )
    }
}

/// ``StatusListStore`` on PostgreSQL: one sequence of lists for every broker on the database.
struct PostgresStatusListStore: StatusListStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func reserve(keyID: String, count: Int, size: Int, at date: Date) async throws -> StatusBlock {
        try await database.write { session in
            try await PostgresStatusRows.reserve(session, keyID: keyID, count: count, size: size, at: date)
        }
    }

    func fetch(list id: String) async throws -> StatusListRecord? {
        try await database.read { session in try await PostgresStatusRows.fetch(session, id: id) }
    }

    func revokedIndices(list id: String) async throws -> [Int] {
        try await database.read { session in try await PostgresStatusRows.revokedIndices(session, list: id) }
    }
}
