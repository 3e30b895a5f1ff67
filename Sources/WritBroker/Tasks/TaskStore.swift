public import Foundation
public import WritToken

/// What recording a new task came to. The checks run inside the commit that records it, so a revocation or
/// a parent's closure committed first is always seen.
public enum TaskInsertion: Sendable, Hashable {
    /// Recorded and audited.
    case inserted
    /// The parent task closed meanwhile.
    case parentClosed
    /// A standing workload or user revocation refuses it.
    case refused(Revocation)
    /// The creator already has this many open tasks.
    case overLimit(Int)
}

/// Where tasks are kept. Every method is one transaction; a second implementation (another database) passes
/// the same conformance suite and needs no change to the services or routes.
public protocol TaskStore: Sendable {
    /// Records a task unless its parent closed, a standing revocation of its workloads (acting, creator,
    /// delegators) or user refuses it, or its creator is at `openTaskLimit`; appends `audit` with it.
    /// `whileCommitting` runs inside the write, in commit order, when the task is recorded.
    func insert(
        _ task: BrokerTask,
        openTaskLimit: Int,
        audit: AuditEvent,
        whileCommitting: @escaping @Sendable (BrokerTask) -> Void
    ) async throws -> TaskInsertion
    /// A task by id; nil when there is none.
    func fetch(id: String) async throws -> BrokerTask?
    /// Records a heartbeat; false when the task is not open.
    func updateHeartbeat(id: String, at date: Date) async throws -> Bool
    /// Closes a task and its open sub-tasks, writes one feed entry per closed task (kept while any of its
    /// tokens lives, and at least `minimumRetention`), and audits each; nil when the task was not open.
    func close(
        _ id: String,
        _ event: TaskEvent,
        actor: String,
        reason: String?,
        at date: Date,
        minimumRetention: TimeInterval
    ) async throws -> TaskClosure?
    /// Open tasks past their deadline or their heartbeats.
    func listDue(now: Date, limit: Int) async throws -> [String]
    /// Tasks matching a filter, newest first, with their token counts; one more than the filter's limit, so
    /// the caller learns whether more match.
    func list(matching filter: TaskFilter, now: Date) async throws -> [TaskSummary]
    /// A task, its descendants depth first, and their tokens with whether each is revoked.
    func fetchTree(id: String) async throws -> TaskTree?
    /// Activity per workload, most recent first.
    func listWorkloads(now: Date) async throws -> [WorkloadActivity]
    /// Removes up to `limit` closed tasks closed before `cutoff` that have no sub-tasks left.
    func prune(closedBefore cutoff: Date, limit: Int) async throws -> Int
}
