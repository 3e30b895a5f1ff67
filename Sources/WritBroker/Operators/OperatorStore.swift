public import Foundation
public import GRDB

/// What an operator may do.
public enum OperatorRole: String, Sendable, Hashable, CaseIterable {
    /// Everything in the admin API: revoke, inspect, manage.
    case admin
    /// RFC 7662 introspection and the revocation feed, for resource servers without a workload identity.
    case introspect
    /// Only `/metrics`, for a scraper.
    case metrics
}

/// An operator as stored: the secret only as its Argon2id hash.
public struct OperatorRecord: Sendable, Hashable {
    /// The public part of the token, `wop_ID_…`.
    public var id: String
    /// A name for people and the audit log.
    public var name: String
    /// What it may do.
    public var role: OperatorRole
    /// The Argon2id PHC string of the secret part.
    public var hash: String
    /// When it was made.
    public var createdAt: Date
    /// When it was revoked, if it was.
    public var revokedAt: Date?
}

/// Operators in the database.
public enum OperatorStore {
    /// Inserts an operator.
    public static func insert(_ db: Database, _ record: OperatorRecord) throws {
        try db.execute(
            sql: "INSERT INTO operators (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                record.id, record.name, record.role.rawValue, record.hash, record.createdAt.timeIntervalSince1970,
                record.revokedAt?.timeIntervalSince1970,
            ]
        )
    }

    /// The operator with this id, or nil.
    public static func fetch(_ db: Database, id: String) throws -> OperatorRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM operators WHERE id = ?", arguments: [id]).flatMap(record)
    }

    /// Every operator, oldest first.
    public static func list(_ db: Database) throws -> [OperatorRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM operators ORDER BY created_at, name").compactMap(record)
    }

    /// The operator named `name`, or with the id `name`.
    public static func fetch(_ db: Database, nameOrID name: String) throws -> OperatorRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM operators WHERE name = ? OR id = ? LIMIT 1", arguments: [name, name])
            .flatMap(record)
    }

    /// Whether the operator with this id is revoked (or gone).
    public static func isRevoked(_ db: Database, id: String) throws -> Bool {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT revoked_at FROM operators WHERE id = ?"),
                arguments: [id]
            )
        else { return true }
        return (row["revoked_at"] as Double?) != nil
    }

    /// Revokes an operator; false when it was already revoked.
    public static func revoke(_ db: Database, id: String, at date: Date) throws -> Bool {
        try db.execute(
            sql: "UPDATE operators SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            arguments: [date.timeIntervalSince1970, id]
        )
        return db.changesCount == 1
    }

    /// How many operators were ever created, revoked or not.
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operators") ?? 0
    }

    /// How many admins are not revoked.
    public static func countActiveAdmins(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operators WHERE revoked_at IS NULL AND role = 'admin'") ?? 0
    }

    /// How many operators are not revoked.
    public static func countActive(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM operators WHERE revoked_at IS NULL") ?? 0
    }

    private static func record(_ row: Row) -> OperatorRecord? {
        guard let role = OperatorRole(rawValue: row["role"]) else { return nil }
        return OperatorRecord(
            id: row["id"],
            name: row["name"],
            role: role,
            hash: row["hash"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Double?).map { Date(timeIntervalSince1970: $0) }
        )
    }
}
