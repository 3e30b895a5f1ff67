import Foundation
import GRDB
import WritToken

/// ``AuditStore`` over the SQLite database.
struct SQLiteAuditStore: AuditStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    @discardableResult
    func append(_ event: AuditEvent, at date: Date) async throws -> AuditEntry {
        try await database.write { db in try AuditRows.append(db, event, at: date) }
    }

    func append(contentsOf events: [AuditEvent], at date: Date) async throws {
        try await database.write { db in
            for event in events { try AuditRows.append(db, event, at: date) }
        }
    }

    func list(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await database.read { db in try AuditRows.list(db, after: sequence, limit: limit) }
    }

    func listLatest(_ count: Int) async throws -> [AuditEntry] {
        try await database.read { db in
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return try AuditRows.list(db, after: max(0, last - Int64(count)), limit: count)
        }
    }

    func report(against anchor: AuditLog.Anchor?) async throws -> AuditLog.Report {
        try await database.read { db in try AuditRows.report(db, against: anchor) }
    }

    func prune(before cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { db in try AuditRows.prune(db, before: cutoff, limit: limit) }
    }

    /// The chain's report from a database opened read-only (nothing is written, no file mode touched): an audit
    /// check needs no more than reading the evidence. A missing or older database is refused.
    static func report(readingOnly path: String, against anchor: AuditLog.Anchor?) throws -> AuditLog.Report {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BrokerDatabase.SchemaMismatch(path: path, missing: true)
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            guard try BrokerDatabase.migrator.hasCompletedMigrations(db) else {
                throw BrokerDatabase.SchemaMismatch(path: path, missing: false)
            }
            return try AuditRows.report(db, against: anchor)
        }
    }
}
