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
