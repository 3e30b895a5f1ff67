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
        /// The resource servers its grant names (`locations`).
        let audiences: Set<String>
    }

    struct State {
        var evaluator = MonitoringEvaluator()
        /// Tasks looked up, and those the broker does not know (nil).
        var tasks: [String: TaskFacts?] = [:]
        /// Tasks known to hold a token for an audience (the key's `token` is the audience).
        var served: Set<RecordKey> = []
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

    /// Counts an event against the rules in force; the rules that fire.
    func count(_ event: UsageEvent, rules: [MonitoringRule]? = nil) -> [MonitoringFiring] {
        let rules = rules ?? context.policies.monitoring
        return state.withLock { $0.evaluator.observe(event, rules: rules) }
    }

    /// Loads the stored baselines once, before the first report is counted.
    func loadBaselines() async throws(BrokerError) {
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
