import Foundation
import GRDB
import WritToken

/// ``SignalStreamStore`` over the SQLite database.
struct SQLiteSignalStreamStore: SignalStreamStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func insert(_ stream: SignalStream, limit: Int) async throws -> Bool {
        try await database.write { db in
            let count =
                try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT COUNT(*) FROM ssf_streams WHERE receiver = ?"),
                    arguments: [stream.receiver]
                ) ?? 0
            guard count < limit else { return false }
            try db.cachedStatement(
                sql: """
                    INSERT INTO ssf_streams (id, receiver, description, events_requested, delivery, endpoint,
                        push_authorization, status, status_reason, feed_cursor, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    stream.id, stream.receiver, stream.description, SignalStreamRows.events(stream),
                    stream.delivery.rawValue, stream.endpoint, stream.authorization, stream.status.rawValue,
                    stream.statusReason, Int64(clamping: stream.cursor), StoredTime.milliseconds(stream.createdAt),
                ]
            )
            return true
        }
    }

    func fetch(id: String) async throws -> SignalStream? {
        try await database.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM ssf_streams WHERE id = ?"), arguments: [id])
                .map(Self.stream)
        }
    }

    func list(receiver: String) async throws -> [SignalStream] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM ssf_streams WHERE receiver = ? ORDER BY created_at, id"),
                arguments: [receiver]
            ).map(Self.stream)
        }
    }

    func list(delivery: SignalStream.Delivery) async throws -> [SignalStream] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM ssf_streams WHERE delivery = ? ORDER BY created_at, id"),
                arguments: [delivery.rawValue]
            ).map(Self.stream)
        }
    }

    func update(_ stream: SignalStream) async throws -> Bool {
        try await database.write { db in
            try db.cachedStatement(
                sql: """
                    UPDATE ssf_streams SET description = ?, events_requested = ?, delivery = ?, endpoint = ?,
                        push_authorization = ?, status = ?, status_reason = ? WHERE id = ?
                    """
            ).execute(
                arguments: [
                    stream.description, SignalStreamRows.events(stream), stream.delivery.rawValue, stream.endpoint,
                    stream.authorization, stream.status.rawValue, stream.statusReason, stream.id,
                ]
            )
            return db.changesCount == 1
        }
    }

    func advance(id: String, to cursor: UInt64) async throws -> Bool {
        try await database.write { db in
            try db.cachedStatement(
                sql: "UPDATE ssf_streams SET feed_cursor = MAX(feed_cursor, ?) WHERE id = ?"
            ).execute(arguments: [Int64(clamping: cursor), id])
            return db.changesCount == 1
        }
    }

    func delete(id: String) async throws -> Bool {
        try await database.write { db in
            try db.cachedStatement(sql: "DELETE FROM ssf_streams WHERE id = ?").execute(arguments: [id])
            return db.changesCount == 1
        }
    }

    static func stream(_ row: Row) throws -> SignalStream {
        try SignalStreamRows.stream(
            id: row["id"],
            receiver: row["receiver"],
            description: row["description"],
            events: row["events_requested"],
            delivery: row["delivery"],
            endpoint: row["endpoint"],
            authorization: row["push_authorization"],
            status: row["status"],
            statusReason: row["status_reason"],
            cursor: row["feed_cursor"],
            createdAt: row["created_at"]
        )
    }
}

/// What both engines' stream rows share: the requested events as a JSON array, and reading a row back.
enum SignalStreamRows {
    static func events(_ stream: SignalStream) -> String {
        JSONWriter.string(.array(stream.eventsRequested.map(JSONValue.string)))
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    static func stream(
        id: String,
        receiver: String,
        description: String?,
        events: String,
        delivery: String,
        endpoint: String,
        authorization: String?,
        status: String,
        statusReason: String?,
        cursor: Int64,
        createdAt: Int64
    ) throws -> SignalStream {
        guard let method = SignalStream.Delivery(rawValue: delivery), let state = SignalStream.Status(rawValue: status),
            let list = try? StrictJSON().parse(events).arrayValue
        else { throw Unreadable(description: "a stored signal stream is unreadable") }
        return SignalStream(
            id: id,
            receiver: receiver,
            description: description,
            eventsRequested: list.compactMap(\.stringValue),
            delivery: method,
            endpoint: endpoint,
            authorization: authorization,
            status: state,
            statusReason: statusReason,
            cursor: UInt64(max(cursor, 0)),
            createdAt: StoredTime.date(createdAt)
        )
    }
}
