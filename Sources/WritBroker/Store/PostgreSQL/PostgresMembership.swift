import Foundation
import PostgresNIO

/// Cluster membership in the table `writ_brokers`: one row per broker, its last heartbeat in milliseconds.
/// Heartbeats take no write lock: each touches only its own row, and the count is read in the same
/// transaction. Rows of brokers gone for long are removed by whoever heartbeats next.
final class PostgresMembership: ClusterMembership {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func heartbeat(broker id: String, now: Date, window: TimeInterval) async throws -> Int {
        let seen = StoredTime.milliseconds(now)
        let since = StoredTime.milliseconds(now.addingTimeInterval(-window))
        let forgotten = StoredTime.milliseconds(now.addingTimeInterval(-window * 20))
        return try await database.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED", lock: nil) { session in
            try await session.execute(
                """
                INSERT INTO writ_brokers (id, seen_at) VALUES (\(id), \(seen))
                ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at
                """
            )
            try await session.execute("DELETE FROM writ_brokers WHERE seen_at < \(forgotten)")
            let count = try await session.integer("SELECT COUNT(*) FROM writ_brokers WHERE seen_at >= \(since)")
            return max(Int(count ?? 1), 1)
        }
    }

    func leave(broker id: String) async throws {
        try await database.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED", lock: nil) { session in
            try await session.execute("DELETE FROM writ_brokers WHERE id = \(id)")
        }
    }
}

/// The first start's steps under a session advisory lock ("writstrt" in ASCII), held on a connection of its
/// own while the steps use others. A broker waiting for it waits at most `lock_timeout` (30 s).
final class PostgresStartupSerialization: StartupSerialization {
    static let lock: Int64 = 0x7772_6974_7374_7274
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func serialized<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let logger = database.logger
        do {
            return try await database.client.withConnection { connection in
                let session = PostgresSession(connection: connection, logger: logger)
                try await session.execute("SELECT pg_advisory_lock(\(Self.lock))")
                do {
                    let value = try await body()
                    try await session.execute("SELECT pg_advisory_unlock(\(Self.lock))")
                    return value
                } catch {
                    // A connection still holding the lock must not go back to the pool.
                    try? await connection.close()
                    throw error
                }
            }
        } catch let error as PSQLError {
            throw PostgresStoreError(error, doing: "serialise the first start")
        }
    }
}
