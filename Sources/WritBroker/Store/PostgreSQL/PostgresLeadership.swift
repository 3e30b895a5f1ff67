import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Leadership by a session-level PostgreSQL advisory lock, held on one pooled connection for as long as that
/// connection lives. When the leader dies, PostgreSQL closes its session and frees the lock, and the first
/// broker to try next (each tries every second) leads.
final class PostgresLeadership: ClusterLeadership {
    /// The advisory lock that names the leader ("writlead" in ASCII).
    static let lock: Int64 = 0x7772_6974_6c65_6164
    let database: PostgresDatabase
    let interval: Duration
    private let leading = Atomic<Bool>(false)

    init(_ database: PostgresDatabase, interval: Duration = .seconds(1)) {
        self.database = database
        self.interval = interval
    }

    var isLeader: Bool { leading.load(ordering: .acquiring) }

    func run() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    // A check in flight when PostgreSQL goes away may never return: leadership ends with the
                    // connection, whether or not the check notices.
                    try await PostgresDatabase.whileOpen(connection) { try await self.hold(on: connection) }
                }
            } catch {
                if !Task.isCancelled {
                    database.logger.warning(
                        "the connection for cluster leadership failed; retrying",
                        metadata: ["error": "\(PostgresStoreError(error, doing: "keep cluster leadership"))"]
                    )
                }
            }
            set(false)
            try? await Task.sleep(for: interval)
        }
    }

    /// Tries for the lock until it is held, then checks every interval that the connection holding it lives.
    private func hold(on connection: PostgresConnection) async throws {
        let session = PostgresSession(connection: connection, logger: database.logger)
        do {
            while !Task.isCancelled {
                if !isLeader {
                    let taken = try await session.row("SELECT pg_try_advisory_lock(\(Self.lock)) AS taken")
                    set(try taken?["taken"].decode(Bool.self) ?? false)
                } else {
                    try await session.execute("SELECT 1")
                }
                try await Task.sleep(for: interval)
            }
        } catch {
            // The connection would go back to the pool, perhaps still holding the lock for a broker that no
            // longer leads: close it instead (PostgreSQL frees a closed session's locks).
            set(false)
            try? await connection.close()
            throw error
        }
        set(false)
        try? await session.execute("SELECT pg_advisory_unlock_all()")
    }

    private func set(_ value: Bool) {
        let was = leading.exchange(value, ordering: .acquiringAndReleasing)
        if was != value {
            database.logger.notice(
                value ? "cluster leader: this broker does the background work" : "cluster leadership given up"
            )
        }
    }
}
