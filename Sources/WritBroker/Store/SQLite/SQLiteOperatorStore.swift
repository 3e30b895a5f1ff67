import Foundation
import GRDB

/// ``OperatorStore`` over the SQLite database.
struct SQLiteOperatorStore: OperatorStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func insert(_ record: OperatorRecord, audit: AuditEvent) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO operators (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    record.id, record.name, record.role.rawValue, record.hash,
                    StoredTime.milliseconds(record.createdAt),
                    record.revokedAt.map(StoredTime.milliseconds),
                ]
            )
            try AuditRows.append(db, audit, at: record.createdAt)
        }
    }

    func fetch(id: String) async throws -> OperatorRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM operators WHERE id = ?", arguments: [id]).flatMap(Self.record)
        }
    }

    func fetch(nameOrID name: String) async throws -> OperatorRecord? {
        try await database.read { db in try Self.fetch(db, nameOrID: name) }
    }

    func list() async throws -> [OperatorRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM operators ORDER BY created_at, name").compactMap(Self.record)
        }
    }

    func revoke(nameOrID name: String, actor: String, at date: Date) async throws -> OperatorRecord? {
        try await database.write { db in
            guard var record = try Self.fetch(db, nameOrID: name) else { return nil }
            try db.execute(
                sql: "UPDATE operators SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [StoredTime.milliseconds(date), record.id]
            )
            guard db.changesCount == 1 else { return record }
            record.revokedAt = date
            try AuditRows.append(
                db,
                AuditEvent("operator.revoked", actor: actor, subject: "operator:\(record.name)"),
                at: date
            )
            return record
        }
    }

    func isRevoked(id: String) async throws -> Bool {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT revoked_at FROM operators WHERE id = ?"),
                    arguments: [id]
                )
            else { return true }
            return (row["revoked_at"] as Int64?) != nil
        }
    }

    func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operators") ?? 0 }
    }

    func countActiveAdmins() async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operators WHERE revoked_at IS NULL AND role = 'admin'")
                ?? 0
        }
    }

    private static func fetch(_ db: Database, nameOrID name: String) throws -> OperatorRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM operators WHERE name = ? OR id = ? LIMIT 1", arguments: [name, name])
            .flatMap(record)
    }

    static func record(_ row: Row) -> OperatorRecord? {
        guard let role = OperatorRole(rawValue: row["role"]) else { return nil }
        return OperatorRecord(
            id: row["id"],
            name: row["name"],
            role: role,
            hash: row["hash"],
            createdAt: StoredTime.date(row["created_at"]),
            revokedAt: (row["revoked_at"] as Int64?).map(StoredTime.date)
        )
    }
}
