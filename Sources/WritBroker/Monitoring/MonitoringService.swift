public import Foundation
import Logging
import Synchronization
public import WritAPI
public import WritPolicy
public import WritToken

/// Watches what agents do with their tokens: takes usage reports from resource servers' verifiers and the
/// broker's own signals, counts them against the `monitoring` rules of the policy files, and acts when one
/// fires (an alert, a task revoked, a workload quarantined). See docs/monitoring.md.
public final class MonitoringService: Sendable {
    /// The largest usage report body accepted.
    public static let maximumReportBody = 4 << 20
    /// The actor named in the audit and the feed for what a rule does.
    static func actor(_ rule: String) -> String { "monitor:\(rule)" }

    struct TaskFacts: Sendable {
        let workload: SPIFFEID
        let type: String
    }

    struct State {
        var evaluator = MonitoringEvaluator()
        var tasks: [String: TaskFacts] = [:]
        var baselinesLoaded = false
    }

    /// How long a task may report nothing before its figures join its baseline.
    static let taskIdle: Int64 = 30
    /// How long a use stays in a baseline without being seen again.
    static let baselineWindow: Int64 = 30 * 86_400

    let context: BrokerContext
    let store: any MonitoringStore
    let tasks: TaskService
    let revocations: RevocationService
    let feed: RevocationFeed
    let state = Mutex(State())

    init(
        context: BrokerContext,
        store: any MonitoringStore,
        tasks: TaskService,
        revocations: RevocationService,
        feed: RevocationFeed
    ) {
        self.context = context
        self.store = store
        self.tasks = tasks
        self.revocations = revocations
        self.feed = feed
        context.observeSignals { [weak self] signal in
            guard let self else { return }
            let event = UsageEvent(
                workload: signal.workload,
                task: signal.task,
                taskType: signal.taskType,
                outcome: signal.code,
                second: context.clock.now.numericDate
            )
            let firings = self.count(event)
            guard !firings.isEmpty else { return }
            Task { await self.act(on: firings) }
        }
    }

    // MARK: - Reports

    /// Takes a report from a resource server serving `audiences`: refusals are counted against the rules, and
    /// what fires is acted on before the call returns. Returns how many records were taken in.
    public func ingest(
        _ report: UsageReport,
        from server: SPIFFEID,
        audiences: [String]
    ) async throws(BrokerError) -> Int {
        guard audiences.contains(report.audience) else {
            throw BrokerError(
                .forbidden,
                "\(server) does not serve \(report.audience); report usage only for an audience listed for it "
                    + "under resource_servers"
            )
        }
        try await loadBaselines()
        var firings: [MonitoringFiring] = []
        var accepted = 0
        let second = context.clock.now.numericDate
        for record in report.records {
            let facts = try await facts(of: record)
            guard let workload = facts.workload else { continue }
            accepted += 1
            let event = UsageEvent(
                workload: workload,
                task: facts.task,
                taskType: facts.type,
                token: record.token,
                audience: report.audience,
                action: record.action,
                resourceType: record.resourceType,
                identifier: record.identifier,
                outcome: record.outcome,
                count: record.count,
                second: second
            )
            firings += count(event)
        }
        context.metrics.usageRecords(accepted: accepted, ignored: report.records.count - accepted)
        if report.dropped > 0 { context.metrics.usageDropped(report.dropped) }
        await act(on: firings)
        return accepted
    }

    /// Who a record is about: a task's own workload and type from the broker's records (never the report's
    /// word for it), or for a refusal that names no task, the `client_id` it names. A task the broker does not
    /// know makes the record ignored.
    private func facts(
        of record: UsageRecord
    ) async throws(BrokerError) -> (workload: SPIFFEID?, task: String?, type: String?) {
        if let id = record.task {
            guard let facts = try await taskFacts(id) else { return (nil, nil, nil) }
            return (facts.workload, id, facts.type)
        }
        guard let text = record.workload, let workload = try? SPIFFEID(text) else { return (nil, nil, nil) }
        return (workload, nil, nil)
    }

    private func taskFacts(_ id: String) async throws(BrokerError) -> TaskFacts? {
        if let known = state.withLock({ $0.tasks[id] }) { return known }
        guard id.utf8.count <= 128, let task = try await tasks.fetch(id: id) else { return nil }
        let facts = TaskFacts(workload: task.workload, type: task.type)
        state.withLock { state in
            if state.tasks.count >= 50_000 { state.tasks.removeAll(keepingCapacity: true) }
            state.tasks[id] = facts
        }
        return facts
    }

    /// Counts an event against the rules in force; the rules that fire.
    func count(_ event: UsageEvent) -> [MonitoringFiring] {
        let rules = context.policies.monitoring
        return state.withLock { $0.evaluator.observe(event, rules: rules) }
    }

    /// Loads the stored baselines once, before the first report is counted.
    private func loadBaselines() async throws(BrokerError) {
        guard !state.withLock({ $0.baselinesLoaded }) else { return }
        let stored = try await context.store("load baselines") { try await store.baselines() }
        state.withLock { state in
            guard !state.baselinesLoaded else { return }
            for baseline in stored {
                let key = MonitoringEvaluator.BaselineKey(workload: baseline.workload, taskType: baseline.taskType)
                if state.evaluator.baselines[key] == nil { state.evaluator.baselines[key] = baseline }
            }
            state.baselinesLoaded = true
        }
    }

    /// Every prune interval: idle tasks join their baselines, old uses and windows go, changed baselines are
    /// saved.
    public func maintain() async {
        let now = context.clock.now.numericDate
        let changed: [UsageBaseline] = state.withLock { state in
            state.evaluator.finishIdleTasks(now: now, idle: Self.taskIdle)
            state.evaluator.prune(now: now, baselineWindow: Self.baselineWindow)
            guard state.baselinesLoaded else { return [] }
            defer { state.evaluator.changed = [] }
            return state.evaluator.changed.compactMap { state.evaluator.baselines[$0] }
        }
        guard !changed.isEmpty else { return }
        do {
            try await context.store("save baselines") { try await store.save(changed) }
        } catch {
            context.logger.error("saving usage baselines failed", metadata: ["error": "\(error)"])
        }
    }

    /// The baselines kept now, of one workload when given, each with its tasks reporting now.
    public func usage(workload: String? = nil) async throws(BrokerError) -> [UsageBaselineBody] {
        try await loadBaselines()
        let (baselines, live) = state.withLock { state in
            (
                state.evaluator.baselines.values.filter { workload == nil || $0.workload == workload },
                state.evaluator.liveSummary
            )
        }
        return baselines.sorted { ($0.workload, $0.taskType) < ($1.workload, $1.taskType) }.map { baseline in
            let now = live[.init(workload: baseline.workload, taskType: baseline.taskType)] ?? (0, 0, 0)
            let uses = baseline.uses.sorted {
                ($1.value.allowed + $1.value.refused, $0.key) < ($0.value.allowed + $0.value.refused, $1.key)
            }
            return UsageBaselineBody(
                workload: baseline.workload,
                taskType: baseline.taskType,
                tasks: baseline.tasks,
                finishedTasks: baseline.requestsPerTask.count,
                requestsP99: baseline.requestsP99,
                refusalsPerThousand: Int((baseline.refusalRate * 1000).rounded()),
                liveTasks: now.tasks,
                liveRequests: now.requests,
                liveRefusals: now.refusals,
                uses: uses.map { use, seen in
                    BaselineUseBody(
                        audience: use.audience,
                        resourceType: use.resourceType,
                        action: use.action,
                        prefix: use.prefix,
                        allowed: seen.allowed,
                        refused: seen.refused,
                        lastSeen: seen.lastSeen
                    )
                }
            )
        }
    }
}
