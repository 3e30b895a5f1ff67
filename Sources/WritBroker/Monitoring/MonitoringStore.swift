public import Foundation
public import WritPolicy

/// Where alerts are kept. Every method is one transaction.
public protocol MonitoringStore: Sendable {
    /// Records an alert with its audit entry, in one commit; the alert comes back with its number.
    func append(_ alert: MonitoringAlert, audit: AuditEvent) async throws -> MonitoringAlert
    /// The latest alerts, newest first, of one workload when given.
    func alerts(limit: Int, workload: String?) async throws -> [MonitoringAlert]
    /// The alerts numbered after `id`, oldest first (the admin event stream). Numbers are given in commit
    /// order: every write takes the store's one writer lock first.
    func alerts(after id: Int64, limit: Int) async throws -> [MonitoringAlert]
    /// The highest number an alert was ever given (pruned ones too); 0 before the first.
    func highestAlertNumber() async throws -> Int64
    /// Removes alerts older than `cutoff`; how many.
    func prune(before cutoff: Date) async throws -> Int
    /// Every usage baseline kept.
    func baselines() async throws -> [UsageBaseline]
    /// Writes baselines, each replacing the one of its workload and task type.
    func save(_ baselines: [UsageBaseline]) async throws
}
