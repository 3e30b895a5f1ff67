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
        /// Tasks looked up, and those the broker does not know (nil).
        var tasks: [String: TaskFacts?] = [:]
        var baselinesLoaded = false
    }

    /// How long a task may report nothing before its figures join its baseline.
    static let taskIdle: Int64 = 30
    /// How long a use stays in a baseline without being seen again.
    static let baselineWindow: Int64 = 30 * 86_400

    let context: BrokerContext
    let store: any MonitoringStore
    let tasks: TaskService
    let tokens: any TokenStore
    let revocations: RevocationService
    let feed: RevocationFeed
    let state = Mutex(State())

    init(
        context: BrokerContext,
        store: any MonitoringStore,
        tasks: TaskService,
        tokens: any TokenStore,
        revocations: RevocationService,
        feed: RevocationFeed
    ) {
        self.context = context
        self.store = store
        self.tasks = tasks
        self.tokens = tokens
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
        // Every task named is looked up first: a store failure then counts nothing (the resource server sends
        // the report again), rather than half of it twice.
        var known: [String: TaskFacts] = [:]
        for id in Set(report.records.compactMap(\.task)) {
            if let facts = try await taskFacts(id) { known[id] = facts }
        }
        let rebound = try await boundElsewhere(report)
        // The rules in force are read once for the whole report.
        let rules = context.policies.monitoring
        var firings: [MonitoringFiring] = []
        var accepted = 0
        let second = context.clock.now.numericDate
        for record in report.records {
            // A record naming no task, or a task the broker does not know, is not counted: only the broker's own
            // records say which workload a use belongs to, never the report.
            guard let task = record.task, let facts = known[task], Self.reportable.contains(record.outcome) else {
                continue
            }
            // A token presented with another binding is believed only of a token the broker issued to this task
            // for this audience.
            if record.outcome == Self.bindingMismatch, !rebound.contains(RecordKey(task: task, token: record.token)) {
                continue
            }
            accepted += 1
            let event = UsageEvent(
                workload: facts.workload,
                task: task,
                taskType: facts.type,
                token: record.token.map { Self.cut($0, 128) },
                audience: report.audience,
                action: record.action.map { Self.cut($0, 128) },
                resourceType: record.resourceType.map { Self.cut($0, 128) },
                identifier: record.identifier.map { Self.cut($0, 256) },
                outcome: Self.cut(record.outcome, 64),
                count: record.count,
                second: second
            )
            firings += count(event, rules: rules)
        }
        context.metrics.usageRecords(accepted: accepted, ignored: report.records.count - accepted)
        if report.dropped > 0 { context.metrics.usageDropped(report.dropped) }
        await act(on: firings)
        return accepted
    }

    /// The outcomes a verifier reports: a use allowed, or one of its refusal codes. The broker's own signals
    /// (`subtask`, `task_denied`, ...) are never taken from a report.
    static let reportable: Set<String> = Set([UsageRecord.allowed] + VerificationError.Code.all.map(\.rawValue))
    static let bindingMismatch = VerificationError.Code.bindingMismatch.rawValue
    /// The most tokens of `binding_mismatch` records looked up per report.
    static let maximumReboundLookups = 100

    struct RecordKey: Hashable {
        let task: String
        let token: String?
    }

    /// The `binding_mismatch` records of a report that name a token the broker issued to their task for the
    /// report's audience (at most ``maximumReboundLookups`` tokens are looked up).
    private func boundElsewhere(_ report: UsageReport) async throws(BrokerError) -> Set<RecordKey> {
        var keys: Set<RecordKey> = []
        for record in report.records where record.outcome == Self.bindingMismatch {
            guard let task = record.task, let token = record.token, token.utf8.count <= 128 else { continue }
            keys.insert(RecordKey(task: task, token: token))
            if keys.count >= Self.maximumReboundLookups { break }
        }
        var found: Set<RecordKey> = []
        for key in keys {
            guard let id = key.token,
                let issued = try await context.store("look up a token", { try await tokens.fetch(id: id) }),
                issued.taskID == key.task, issued.audience == report.audience
            else { continue }
            found.insert(key)
        }
        return found
    }

    /// A text cut to `length` bytes at most (on a character boundary).
    static func cut(_ text: String, _ length: Int) -> String {
        guard text.utf8.count > length else { return text }
        var cut = ""
        for character in text {
            guard cut.utf8.count + character.utf8.count <= length else { break }
            cut.append(character)
        }
        return cut
    }

    /// A task's workload and type from the broker's records (remembered, and so is a task it does not know).
    private func taskFacts(_ id: String) async throws(BrokerError) -> TaskFacts? {
        if let known = state.withLock({ $0.tasks[id] }) { return known ?? nil }
        let task = id.utf8.count <= 128 ? try await tasks.fetch(id: id) : nil
        let facts = task.map { TaskFacts(workload: $0.workload, type: $0.type) }
        state.withLock { state in
            if state.tasks.count >= 50_000 { state.tasks.removeAll(keepingCapacity: true) }
            state.tasks[id] = .some(facts)
        }
        return facts
    }

    /// Counts an event against the rules in force; the rules that fire.
    func count(_ event: UsageEvent, rules: [MonitoringRule]? = nil) -> [MonitoringFiring] {
        let rules = rules ?? context.policies.monitoring
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
                // What was learned before the load joins what was stored, rather than replacing it.
                var merged = baseline
                if let learned = state.evaluator.baselines[key] { merged.merge(learned) }
                state.evaluator.baselines[key] = merged
            }
            state.baselinesLoaded = true
        }
    }

    /// Every prune interval: idle tasks join their baselines, old uses and windows go, changed baselines are
    /// saved.
    public func maintain() async {
        // Baselines learned from the broker's own signals alone (the fan-out) are kept too, so they are loaded
        // here and not only at the first report.
        do {
            try await loadBaselines()
        } catch {
            context.logger.error("loading usage baselines failed", metadata: ["error": "\(error)"])
        }
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
            // Saved at the next interval.
            state.withLock { state in
                for baseline in changed {
                    state.evaluator.changed.insert(.init(workload: baseline.workload, taskType: baseline.taskType))
                }
            }
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
                subtasksP99: baseline.subtasksP99,
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
