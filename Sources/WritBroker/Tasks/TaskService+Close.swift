public import Foundation
import Synchronization
import WritPolicy
import WritToken

extension TaskService {
    /// How long a closed task is kept for operators, once its tokens have expired.
    public static let closedTaskRetention: TimeInterval = 3600
    /// A task's feed entry is kept at least this long, even when it had no tokens.
    public static let minimumFeedRetention: TimeInterval = 600

    /// Completes or aborts a task for its workload or an operator, revoking its tokens and every sub-task.
    public func close(
        taskID: String,
        _ event: TaskEvent,
        by caller: Caller,
        reason: String? = nil
    ) async throws(BrokerError) -> TaskClosure {
        let task = try await fetch(id: taskID, for: caller)
        if case .operator = caller {
        } else if event == .complete, case .workload(let identity) = caller, identity.id != task.workload {
            throw BrokerError(.forbidden, "only the task's own workload completes it")
        }
        guard let closure = try await close(task.id, event, actor: caller.auditName, reason: reason) else {
            throw BrokerError(
                .taskClosed,
                "the task is already \(task.state == .open ? "closed" : task.state.rawValue)"
            )
        }
        return closure
    }

    /// Closes a task and its open sub-tasks in one durable write, then publishes their feed entries; nil when
    /// the task was already closed.
    func close(
        _ taskID: String,
        _ event: TaskEvent,
        actor: String,
        reason: String?
    ) async throws(BrokerError)
        -> TaskClosure?
    {
        let now = context.clock.now
        let closure = try await context.store("close task") {
            try await store.close(
                taskID,
                event,
                actor: actor,
                reason: reason,
                at: now,
                minimumRetention: Self.minimumFeedRetention
            )
        }
        guard let closure else { return nil }
        forget(closure.tasks)
        context.metrics.task(closure.state.rawValue)
        context.metrics.revoked(kind: "task", count: closure.revocations.count)
        await feed.publish(logger: context.logger)
        return closure
    }

    /// Drops closed tasks from the cache of open ones.
    func forget(_ ids: [String]) {
        openTasks.withLock { cache in for id in ids { cache.removeValue(forKey: id) } }
    }

    /// Expires open tasks past their deadline or their heartbeats; how many it expired.
    @discardableResult
    public func expireDue() async throws(BrokerError) -> Int {
        let now = context.clock.now
        let due = try await context.store("list due tasks") { try await store.listDue(now: now, limit: 500) }
        var expired = 0
        for id in due {
            let task = try await fetch(id: id)
            let missedHeartbeats = task.map { $0.deadline > now } ?? false
            let reason = missedHeartbeats ? "heartbeats missed" : "deadline passed"
            if try await close(id, .expire, actor: "broker", reason: reason) != nil { expired += 1 }
        }
        return expired
    }

    /// Tasks matching an operator's filter, newest first (one more than its limit, to say whether more match).
    public func list(matching filter: TaskFilter) async throws(BrokerError) -> [TaskSummary] {
        let now = context.clock.now
        return try await context.store("list tasks") { try await store.list(matching: filter, now: now) }
    }

    /// A task with its descendants and their tokens.
    public func tree(id: String) async throws(BrokerError) -> TaskTree {
        guard let tree = try await context.store("task tree", { try await store.fetchTree(id: id) }) else {
            throw BrokerError(.notFound, "no task \(id.prefix(64))")
        }
        return tree
    }

    /// Activity per workload.
    public func workloads() async throws(BrokerError) -> [WorkloadActivity] {
        let now = context.clock.now
        return try await context.store("list workloads") { try await store.listWorkloads(now: now) }
    }
}

extension TaskService {
    /// Empties the cache of open tasks when it grows past its bound (it refills from the store on demand).
    func trimCache() {
        openTasks.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
        }
    }
}
