import Foundation
import GRDB
import Logging
import Synchronization
public import WritPolicy
public import WritToken
import WritVerifier

extension Broker {
    /// Begins a task: authenticates the user assertion, asks the policy, and records the task durably.
    /// A denial is audited and thrown as ``BrokerError/Code/accessDenied`` with the policy's reasons.
    public func createTask(
        _ descriptor: TaskDescriptor,
        by caller: WorkloadIdentity
    ) async throws(BrokerError)
        -> BrokerTask
    {
        try admit(caller.id)
        let now = clock.now
        var user: UserClaims?
        if let assertion = descriptor.userAssertion {
            do {
                user = try identities.verifyUser(assertion, now: now)
            } catch {
                metrics.denied("invalid_user_assertion")
                throw BrokerError(.invalidRequest, "user_assertion: \(error.description)")
            }
        }
        var parentTask: BrokerTask?
        if let parentID = descriptor.parent {
            guard let parent = try await task(id: parentID), parent.workload == caller.id else {
                throw BrokerError(.invalidGrant, "no open parent task \(parentID.prefix(64)) of this workload")
            }
            guard parent.state == .open else { throw BrokerError(.taskClosed, "the parent task is \(parent.state)") }
            if descriptor.userAssertion != nil, user?.subject != parent.user?.subject {
                throw BrokerError(.invalidRequest, "a sub-task is for its parent's user")
            }
            user = parent.user
            parentTask = parent
        }
        let acting = WorkloadIdentity(id: descriptor.delegate ?? caller.id, attestation: caller.attestation)
        let probe = AccessTokenClaims(
            issuer: settings.issuer,
            subject: user?.subject ?? acting.id.description,
            audience: "",
            expiresAt: now,
            issuedAt: now,
            tokenID: "",
            clientID: acting.id,
            actorChain: parentTask.map { [$0.workload] + $0.actors } ?? [],
            taskID: "",
            authorizationDetails: []
        )
        if let entry = try feed.covers(probe, now: now) {
            metrics.denied(BrokerError.Code.revoked.rawValue)
            throw BrokerError(.revoked, self.refusal(of: "new tasks", by: entry))
        }
        let request = PolicyRequest(
            workload: acting,
            user: user,
            taskType: descriptor.type,
            purpose: descriptor.purpose,
            authorizationDetails: descriptor.authorizationDetails,
            requestedDuration: descriptor.maximumDuration,
            wantsBearerTokens: descriptor.bearer,
            parent: parentTask.map {
                ParentTask(
                    workload: $0.workload,
                    grant: $0.grant,
                    depth: $0.depth,
                    remaining: max($0.deadline.timeIntervalSince(now), 0)
                )
            }
        )
        let decision = policies.evaluate(request)
        guard case .permit(let grant, _) = decision else {
            let reasons = decision.reasons
            for reason in reasons { metrics.denied(reason.code.rawValue) }
            let detail: JSONValue = .object([
                "type": .string(descriptor.type), "workload": .string(acting.id.description),
                "reasons": .array(reasons.map(\.json)),
            ])
            let actor = caller.id.description
            _ = try await write("audit denial") { db in
                try AuditLog.append(db, event: "task.denied", actor: actor, subject: "-", detail: detail, at: now)
            }
            throw BrokerError(
                .accessDenied,
                reasons.first?.message ?? "the policy denies this task",
                details: .object(["reasons": .array(reasons.map(\.json))])
            )
        }
        var deadline = now.addingTimeInterval(grant.taskDuration)
        if let parentTask { deadline = min(deadline, parentTask.deadline) }
        let task = BrokerTask(
            id: Identifiers.task(now: now),
            parentID: parentTask?.id,
            rootID: parentTask?.rootID ?? "",
            depth: parentTask.map { $0.depth + 1 } ?? 0,
            workload: acting.id,
            actors: parentTask.map { [$0.workload] + $0.actors } ?? [],
            createdBy: caller.id,
            attestation: acting.attestation,
            user: user,
            type: descriptor.type,
            purpose: descriptor.purpose,
            grant: grant,
            state: .open,
            reason: nil,
            createdAt: now,
            deadline: deadline,
            heartbeatInterval: descriptor.heartbeatInterval,
            lastHeartbeat: descriptor.heartbeatInterval == nil ? nil : now,
            closedAt: nil
        )
        var stored = task
        if stored.rootID.isEmpty { stored.rootID = stored.id }
        let record = stored
        let limit = settings.openTaskLimit
        try await write("create task") { db in
            if let parent = record.parentID, try TaskStore.state(db, id: parent) != .open {
                throw BrokerError(.taskClosed, "the parent task closed meanwhile")
            }
            // Checked inside the commit: a workload or user revocation acknowledged before this commit is seen
            // here, whatever the in-memory feed knew when the request began.
            if let entry = try RevocationStore.fetchRefusing(
                db,
                workloads: [record.workload, record.createdBy] + record.actors,
                user: record.user?.subject,
                now: now
            ) {
                throw BrokerError(.revoked, self.refusal(of: "new tasks", by: entry))
            }
            // The quota is the creator's: a workload cannot use delegation to exhaust another's.
            guard try TaskStore.countOpen(db, createdBy: record.createdBy) < limit else {
                throw BrokerError(.tooManyOpenTasks, "this workload already has \(limit) open tasks; finish some first")
            }
            try TaskStore.insert(db, record)
            try AuditLog.append(
                db,
                event: "task.created",
                actor: caller.id.description,
                subject: record.id,
                detail: .object([
                    "type": .string(record.type), "workload": .string(record.workload.description),
                    "user": record.user?.subject.map(JSONValue.string) ?? .null,
                    "parent": record.parentID.map(JSONValue.string) ?? .null,
                    "grant": record.grant.json, "deadline": .integer(record.deadline.numericDate),
                ]),
                at: now
            )
            // Cached inside the write, which runs in commit order: a revocation whose commit follows this one
            // removes the task from the cache after it was added, never before.
            self.openTasks.withLock { $0[record.id] = record }
        }
        metrics.task("created")
        return record
    }

    /// A task by id: from the cache of open tasks, else from the store.
    public func task(id: String) async throws(BrokerError) -> BrokerTask? {
        if let cached = openTasks.withLock({ $0[id] }) { return cached }
        guard id.utf8.count <= 128 else { return nil }
        return try await read("fetch task") { db in try TaskStore.fetch(db, id: id) }
    }

    /// A task the caller may see: its acting workload, its creator, or an operator.
    public func task(id: String, for caller: Caller) async throws(BrokerError) -> BrokerTask {
        guard let task = try await task(id: id), Self.may(caller, act: task) else {
            throw BrokerError(.notFound, "no task \(id.prefix(64)) visible to this caller")
        }
        return task
    }

    /// Records a heartbeat from the task's workload.
    public func heartbeat(taskID: String, by caller: Caller) async throws(BrokerError) -> BrokerTask {
        var task = try await task(id: taskID, for: caller)
        guard task.state == .open else { throw BrokerError(.taskClosed, "the task is \(task.state)") }
        let now = clock.now
        let updated = try await write("heartbeat") { db in try TaskStore.updateHeartbeat(db, id: taskID, at: now) }
        guard updated else { throw BrokerError(.taskClosed, "the task closed meanwhile") }
        task.lastHeartbeat = now
        let refreshed = task
        openTasks.withLock { if $0[taskID] != nil { $0[taskID] = refreshed } }
        return task
    }

    /// Completes or aborts a task for its workload or an operator, revoking its tokens and every sub-task.
    public func close(
        taskID: String,
        _ event: TaskEvent,
        by caller: Caller,
        reason: String? = nil
    ) async throws(BrokerError) -> TaskClosure {
        let task = try await task(id: taskID, for: caller)
        if case .operator = caller {
        } else if event == .complete, case .workload(let identity) = caller,
            identity.id != task.workload
        {
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

    /// Closes a task and its open sub-tasks in one durable write; nil when the task was already closed.
    func close(
        _ taskID: String,
        _ event: TaskEvent,
        actor: String,
        reason: String?
    ) async throws(BrokerError)
        -> TaskClosure?
    {
        let now = clock.now
        let closure: TaskClosure? = try await write("close task") { db in
            guard let state = try TaskStore.state(db, id: taskID), let next = event.next(from: state) else {
                return nil
            }
            let subtree = try TaskStore.openSubtree(db, root: taskID)
            let because = reason ?? "\(next.rawValue) by \(actor)"
            var closed = try TaskStore.close(db, ids: [taskID], state: next, reason: because, at: now)
            closed += try TaskStore.close(
                db,
                ids: Array(subtree.dropFirst()),
                state: .aborted,
                reason: "parent task \(next.rawValue)",
                at: now
            )
            var revocations: [Revocation] = []
            for id in closed {
                let retain = max(
                    try TokenStore.latestExpiry(db, taskID: id) ?? now,
                    now.addingTimeInterval(Self.minimumFeedRetention)
                )
                let revocation = try RevocationStore.insert(
                    db,
                    .task(id),
                    revokedAt: now,
                    retainUntil: retain,
                    actor: actor
                )
                revocations.append(revocation)
                try AuditLog.append(
                    db,
                    event: id == taskID ? "task.\(next.rawValue)" : "task.aborted",
                    actor: actor,
                    subject: id,
                    detail: .object([
                        "reason": .string(id == taskID ? because : "parent task \(next.rawValue)"),
                        "revocation": .integer(Int64(revocation.sequence)),
                    ]),
                    at: now
                )
            }
            let tokens = try TokenStore.countLive(db, taskIDs: closed, now: now)
            return TaskClosure(state: next, tasks: closed, revocations: revocations, liveTokens: tokens)
        }
        guard let closure else { return nil }
        openTasks.withLock { cache in for id in closure.tasks { cache.removeValue(forKey: id) } }
        metrics.task(closure.state.rawValue)
        metrics.revoked(kind: "task", count: closure.revocations.count)
        await publishRevocations()
        return closure
    }

    /// Brings the in-memory view up to the store and wakes every stream subscriber, which sends the new
    /// entries or, when there are none, a heartbeat. Called after each revocation commit and on every tick.
    public func publishRevocations() async {
        do {
            try await feed.catchUp()
        } catch {
            logger.error("revocation feed catch-up failed", metadata: ["error": "\(error)"])
        }
    }

    /// Why something is refused while a revocation holds, and until when: a workload or user entry lapses at
    /// its retention time (or sooner if an operator lifts it); an issued-before or lifted one covers only the
    /// rest of its second.
    func refusal(of what: String, by entry: Revocation) -> String {
        let formatter = ISO8601DateFormatter()
        if case .issuedBefore(let cutoff, _) = entry.subject {
            return "revoked by feed entry \(entry.sequence) (issued before); \(what) are refused until "
                + formatter.string(from: cutoff)
        }
        if let from = feed.view.liftedFrom(entry.sequence) {
            return "revoked by feed entry \(entry.sequence), lifted; \(what) are allowed from "
                + formatter.string(from: from)
        }
        return "revoked by feed entry \(entry.sequence); \(what) are refused until it lapses at "
            + formatter.string(from: entry.retainUntil) + " (or an operator lifts it: writ revoke lift "
            + "\(entry.sequence))"
    }

    /// Whether a caller may act on a task.
    static func may(_ caller: Caller, act task: BrokerTask) -> Bool {
        switch caller {
        case .operator: return true
        case .workload(let identity): return identity.id == task.workload || identity.id == task.createdBy
        case .anonymous, .resourceServer: return false
        }
    }
}

/// What closing a task did.
public struct TaskClosure: Sendable, Hashable {
    /// The state the task moved to.
    public let state: TaskState
    /// The tasks closed: the task, then its sub-tasks.
    public let tasks: [String]
    /// The feed entries made, one per task.
    public let revocations: [Revocation]
    /// How many unexpired tokens the closed tasks held.
    public let liveTokens: Int
}
