import Foundation
import PostgresNIO

/// Operators on PostgreSQL: one list for every broker, so a revocation takes effect at each on its next check.
struct PostgresOperatorStore: OperatorStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func insert(_ record: OperatorRecord, audit: AuditEvent) async throws {
        try await database.write { session in
            try await session.execute(
                """
                INSERT INTO operators (id, name, role, hash, created_at, revoked_at)
                VALUES (\(record.id), \(record.name), \(record.role.rawValue), \(record.hash),
                    \(StoredTime.milliseconds(record.createdAt)), \(record.revokedAt.map(StoredTime.milliseconds)))
                """
            )
            try await PostgresAuditRows.append(session, audit, at: record.createdAt)
        }
    }

    func fetch(id: String) async throws -> OperatorRecord? {
        try await database.read { session in
            try await session.row("SELECT * FROM operators WHERE id = \(id)").flatMap(Self.record)
        }
    }

    func fetch(nameOrID name: String) async throws -> OperatorRecord? {
        try await database.read { session in try await Self.fetch(session, nameOrID: name) }
    }

    func list() async throws -> [OperatorRecord] {
        try await database.read { session in
            try await session.rows("SELECT * FROM operators ORDER BY created_at, name").compactMap(Self.record)
        }
    }

    func revoke(nameOrID name: String, actor: String, at date: Date) async throws -> OperatorRecord? {
        try await database.write { session in
            guard var record = try await Self.fetch(session, nameOrID: name) else { return nil }
            let changed = try await session.execute(
                """
                UPDATE operators SET revoked_at = \(StoredTime.milliseconds(date))
                WHERE id = \(record.id) AND revoked_at IS NULL RETURNING 1
                """
            )
            guard changed == 1 else { return record }
            record.revokedAt = date
            try await PostgresAuditRows.append(
                session,
                AuditEvent("operator.revoked", actor: actor, subject: "operator:\(record.name)"),
                at: date
            )
            return record
        }
    }

    func isRevoked(id: String) async throws -> Bool {
        try await database.read { session in
            guard let row = try await session.row("SELECT revoked_at FROM operators WHERE id = \(id)") else {
                return true
            }
            return try row.optionalInt64("revoked_at") != nil
        }
    }

    func count() async throws -> Int {
        try await database.read { session in Int(try await session.integer("SELECT COUNT(*) FROM operators") ?? 0) }
    }

    func countActiveAdmins() async throws -> Int {
        try await database.read { session in
            Int(
                try await session.integer(
                    "SELECT COUNT(*) FROM operators WHERE revoked_at IS NULL AND role = 'admin'"
                ) ?? 0
            )
        }
    }

    private static func fetch(_ session: PostgresSession, nameOrID name: String) async throws -> OperatorRecord? {
        try await session.row("SELECT * FROM operators WHERE name = \(name) OR id = \(name) LIMIT 1").flatMap(record)
    }

    private static func record(_ row: PostgresRandomAccessRow) throws -> OperatorRecord? {
        guard let role = OperatorRole(rawValue: try row.string("role")) else { return nil }
        return OperatorRecord(
            id: try row.string("id"),
            name: try row.string("name"),
            role: role,
            hash: try row.string("hash"),
            createdAt: try row.date("created_at"),
            revokedAt: try row.optionalDate("revoked_at")
        )
    }
}
