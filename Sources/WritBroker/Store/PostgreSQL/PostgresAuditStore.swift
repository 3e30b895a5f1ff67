import Foundation
import PostgresNIO
import WritToken

/// The audit log on PostgreSQL: one chain across every broker, appended in commit order.
struct PostgresAuditStore: AuditStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    @discardableResult
    func append(_ event: AuditEvent, at date: Date) async throws -> AuditEntry {
        try await database.write { session in try await PostgresAuditRows.append(session, event, at: date) }
    }

    func append(contentsOf events: [AuditEvent], at date: Date) async throws {
        try await database.write { session in
            for event in events { try await PostgresAuditRows.append(session, event, at: date) }
        }
    }

    func list(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await database.read { session in try await PostgresAuditRows.list(session, after: sequence, limit: limit) }
    }

    func listLatest(_ count: Int) async throws -> [AuditEntry] {
        try await database.read { session in
            let last = try await session.integer("SELECT MAX(seq) FROM audit") ?? 0
            return try await PostgresAuditRows.list(session, after: max(0, last - Int64(count)), limit: count)
        }
    }

    func report(against anchor: AuditLog.Anchor?) async throws -> AuditLog.Report {
        try await database.read { session in try await PostgresAuditRows.report(session, against: anchor) }
    }

    func prune(before cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { session in
            try await PostgresAuditRows.prune(session, before: cutoff, limit: limit)
        }
    }
}
