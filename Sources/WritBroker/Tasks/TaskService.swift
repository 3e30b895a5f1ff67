import Foundation
import Logging
import Synchronization
public import WritPolicy
import WritToken

/// The task verbs: begin a task under the policy, look one up, take its heartbeats, close it with its
/// sub-tasks. Open tasks are cached; the cache is filled and emptied in commit order.
public final class TaskService: Sendable {
    let context: BrokerContext
    let store: any TaskStore
    let audit: any AuditStore
    let identities: IdentityRegistry
    let feed: RevocationFeed
    let openTasks = Mutex<[String: BrokerTask]>([:])
    /// Whether open tasks are cached. Not where several brokers share the store: another broker may close a
    /// task (complete it, expire it, revoke its workload) and this one would not know.
    let caching: Bool

    init(
        context: BrokerContext,
        store: any TaskStore,
        audit: any AuditStore,
        identities: IdentityRegistry,
        feed: RevocationFeed,
        caching: Bool = true
    ) {
        self.context = context
        self.caching = caching
        self.store = store
        self.audit = audit
        self.identities = identities
        self.feed = feed
    }

    /// Begins a task: authenticates the user assertion, asks the policy, and records the task durably.
    /// A denial is audited and thrown as ``BrokerError/Code/accessDenied`` with the policy's reasons.
    public func create(
        _ descriptor: TaskDescriptor,
        by caller: WorkloadIdentity
    ) async throws(BrokerError)
        -> BrokerTask
    {
        try context.admit(caller.id)
        let now = context.clock.now
        var user = try verifiedUser(descriptor.userAssertion, now: now)
        let parent = try await openParent(descriptor, of: caller, user: &user)
        let acting = WorkloadIdentity(id: descriptor.delegate ?? caller.id, attestation: caller.attestation)
        let actors = parent.map { [$0.workload] + $0.actors } ?? []
        try refuseIfRevoked(acting: acting.id, actors: actors, user: user, now: now)
        let grant = try await grant(for: descriptor, acting: acting, user: user, parent: parent, by: caller, now: now)
        let task = BrokerTask(
            opening: descriptor,
            id: Identifiers.task(now: now),
            acting: acting,
            createdBy: caller.id,
            user: user,
            grant: grant,
            parent: parent,
            now: now
        )
        let recorded = try await record(task, by: caller)
        if let parent {
            // The parent's fan-out, for its baseline.
            context.observe(
                BrokerSignal(
                    code: UsageEvent.subtask,
                    workload: parent.workload,
                    task: parent.id,
                    taskType: parent.type
                )
            )
        }
        return recorded
    }

    /// The verified user assertion, if the descriptor has one.
    private func verifiedUser(_ assertion: String?, now: Date) throws(BrokerError) -> UserClaims? {
        guard let assertion else { return nil }
        do {
            return try identities.verifyUser(assertion, now: now)
        } catch {
            context.metrics.denied("invalid_user_assertion")
            throw BrokerError(.invalidRequest, "user_assertion: \(error.description)")
        }
    }

    /// The open parent task of a sub-task, which fixes its user; nil for a root task.
    private func openParent(
        _ descriptor: TaskDescriptor,
        of caller: WorkloadIdentity,
        user: inout UserClaims?
    ) async throws(BrokerError) -> BrokerTask? {
        guard let parentID = descriptor.parent else { return nil }
        guard let parent = try await fetch(id: parentID), parent.workload == caller.id else {
            throw BrokerError(.invalidGrant, "no open parent task \(parentID.prefix(64)) of this workload")
        }
        guard parent.state == .open else { throw BrokerError(.taskClosed, "the parent task is \(parent.state)") }
        guard !parent.implicit else {
            throw BrokerError(.invalidGrant, "an implicit task gives one token and has no sub-tasks; begin a task")
        }
        if descriptor.userAssertion != nil, user?.subject != parent.user?.subject {
            throw BrokerError(.invalidRequest, "a sub-task is for its parent's user")
        }
        user = parent.user
        return parent
    }

    /// Refuses a task whose workloads or user a standing revocation in the in-memory view covers (the store
    /// checks again inside the commit).
    private func refuseIfRevoked(
        acting: SPIFFEID,
        actors: [SPIFFEID],
        user: UserClaims?,
        now: Date
    ) throws(BrokerError) {
        let probe = AccessTokenClaims(
            issuer: context.settings.issuer,
            subject: user?.subject ?? acting.description,
            audience: "",
            expiresAt: now,
            issuedAt: now,
            tokenID: "",
            clientID: acting,
            actorChain: actors,
            taskID: "",
            authorizationDetails: []
        )
        if let entry = try feed.covers(probe, now: now) {
            context.metrics.denied(BrokerError.Code.revoked.rawValue)
            throw BrokerError(.revoked, feed.refusal(of: "new tasks", by: entry))
        }
    }

    /// Records a task in one commit with its audit entry, and caches it in commit order.
    private func record(_ task: BrokerTask, by caller: WorkloadIdentity) async throws(BrokerError) -> BrokerTask {
        let limit = context.settings.limits.openTasks
        let event = AuditEvent("task.created", actor: caller.id.description, subject: task.id, detail: task.auditDetail)
        let outcome = try await context.store("create task") {
            // Cached inside the write, which runs in commit order: a revocation whose commit follows this one
            // removes the task from the cache after it was added, never before.
            try await store.insert(task, openTaskLimit: limit, audit: event) { [self] recorded in
                if self.caching { self.openTasks.withLock { $0[recorded.id] = recorded } }
            }
        }
        switch outcome {
        case .inserted: break
        case .parentClosed: throw BrokerError(.taskClosed, "the parent task closed meanwhile")
        case .refused(let entry): throw BrokerError(.revoked, feed.refusal(of: "new tasks", by: entry))
        case .overLimit(let limit):
            throw BrokerError(.tooManyOpenTasks, "this workload already has \(limit) open tasks; finish some first")
        }
        context.metrics.task("created")
        return task
    }

    /// A task by id: from the cache of open tasks, else from the store.
    public func fetch(id: String) async throws(BrokerError) -> BrokerTask? {
        if let cached = openTasks.withLock({ $0[id] }) { return cached }
        guard id.utf8.count <= 128 else { return nil }
        return try await context.store("fetch task") { try await store.fetch(id: id) }
    }

    /// A task the caller may see: its acting workload, its creator, or an operator.
    public func fetch(id: String, for caller: Caller) async throws(BrokerError) -> BrokerTask {
        guard let task = try await fetch(id: id), Self.may(caller, act: task) else {
            throw BrokerError(.notFound, "no task \(id.prefix(64)) visible to this caller")
        }
        return task
    }

    /// Records a heartbeat from the task's workload.
    public func heartbeat(taskID: String, by caller: Caller) async throws(BrokerError) -> BrokerTask {
        var task = try await fetch(id: taskID, for: caller)
        guard task.state == .open else { throw BrokerError(.taskClosed, "the task is \(task.state)") }
        let now = context.clock.now
        let updated = try await context.store("heartbeat") { try await store.updateHeartbeat(id: taskID, at: now) }
        guard updated else { throw BrokerError(.taskClosed, "the task closed meanwhile") }
        task.lastHeartbeat = now
        let refreshed = task
        openTasks.withLock { if $0[taskID] != nil { $0[taskID] = refreshed } }
        return task
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
