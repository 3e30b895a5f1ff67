import Foundation
import PostgresNIO
import WritToken

/// ``SignalStreamStore`` on PostgreSQL: one set of streams, and one cursor each, for every broker.
struct PostgresSignalStreamStore: SignalStreamStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func insert(_ stream: SignalStream, limit: Int) async throws -> Bool {
        try await database.write { session in
            let count =
                try await session.integer("SELECT COUNT(*) FROM ssf_streams WHERE receiver = \(stream.receiver)") ?? 0
            guard count < Int64(limit) else { return false }
            try await Self.insert(session, stream)
            return true
        }
    }

    /// Writes a stream as it is, cursor included (also what `writ store migrate` copies).
    static func insert(_ session: PostgresSession, _ stream: SignalStream) async throws {
        _ = try await session.execute(
            """
            INSERT INTO ssf_streams (id, receiver, description, events_requested, delivery, endpoint,
                push_authorization, status, status_reason, feed_cursor, created_at)
            VALUES (\(stream.id), \(stream.receiver), \(stream.description), \(SignalStreamRows.events(stream)),
                \(stream.delivery.rawValue), \(stream.endpoint), \(stream.authorization),
                \(stream.status.rawValue), \(stream.statusReason), \(Int64(clamping: stream.cursor)),
                \(StoredTime.milliseconds(stream.createdAt)))
            """
        )
    }

    func fetch(id: String) async throws -> SignalStream? {
        try await database.read { session in
            try await session.row("SELECT * FROM ssf_streams WHERE id = \(id)").map(Self.stream)
        }
    }

    func list(receiver: String) async throws -> [SignalStream] {
        try await database.read { session in
            try await session.rows(
                "SELECT * FROM ssf_streams WHERE receiver = \(receiver) ORDER BY created_at, id COLLATE \"C\""
            ).map(Self.stream)
        }
    }

    func list(delivery: SignalStream.Delivery) async throws -> [SignalStream] {
        try await database.read { session in
            try await session.rows(
                """
                SELECT * FROM ssf_streams WHERE delivery = \(delivery.rawValue) ORDER BY created_at, id COLLATE "C"
                """
            ).map(Self.stream)
        }
    }

    func update(_ stream: SignalStream) async throws -> Bool {
        try await database.write { session in
            try await session.execute(
                """
                UPDATE ssf_streams SET description = \(stream.description),
                    events_requested = \(SignalStreamRows.events(stream)), delivery = \(stream.delivery.rawValue),
                    endpoint = \(stream.endpoint), push_authorization = \(stream.authorization),
                    status = \(stream.status.rawValue), status_reason = \(stream.statusReason)
                WHERE id = \(stream.id) RETURNING 1
                """
            ) == 1
        }
    }

    func advance(id: String, to cursor: UInt64) async throws -> Bool {
        try await database.write { session in
            try await session.execute(
                """
                UPDATE ssf_streams SET feed_cursor = GREATEST(feed_cursor, \(Int64(clamping: cursor)))
                WHERE id = \(id) RETURNING 1
                """
            ) == 1
        }
    }

    func delete(id: String) async throws -> Bool {
        try await database.write { session in
            try await session.execute("DELETE FROM ssf_streams WHERE id = \(id) RETURNING 1") == 1
        }
    }

    private static func stream(_ row: PostgresRandomAccessRow) throws -> SignalStream {
        try SignalStreamRows.stream(
            id: try row.string("id"),
            receiver: try row.string("receiver"),
            description: try row.optionalString("description"),
            events: try row.string("events_requested"),
            delivery: try row.string("delivery"),
            endpoint: try row.string("endpoint"),
            authorization: try row.optionalString("push_authorization"),
            status: try row.string("status"),
            statusReason: try row.optionalString("status_reason"),
            cursor: try row.int64("feed_cursor"),
            createdAt: try row.int64("created_at")
        )
    }
}
