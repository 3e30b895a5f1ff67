public import Foundation

/// Where the audit log is kept. Entries are appended inside the writes they describe (each store takes the
/// ``AuditEvent`` with its write); this store appends the ones that stand alone and reads the log back.
/// Every method is one transaction.
public protocol AuditStore: Sendable {
    /// Appends one entry, chained to the last.
    @discardableResult
    func append(_ event: AuditEvent, at date: Date) async throws -> AuditEntry
    /// Appends many entries in one transaction, in order (loading history, e.g. for a benchmark).
    func append(contentsOf events: [AuditEvent], at date: Date) async throws
    /// Up to `limit` entries after `sequence`, oldest first.
    func list(after sequence: Int64, limit: Int) async throws -> [AuditEntry]
    /// The last `count` entries, oldest first.
    func listLatest(_ count: Int) async throws -> [AuditEntry]
    /// Walks the whole chain (from an outside anchor when given). Throws ``AuditLog/AnchorPruned`` when the
    /// anchor is older than what pruning kept.
    func report(against anchor: AuditLog.Anchor?) async throws -> AuditLog.Report
    /// Removes up to `limit` of the oldest entries older than `cutoff`, keeping the chain checkable from the
    /// last one removed.
    func prune(before cutoff: Date, limit: Int) async throws -> Int
}
