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

    /// A rule that fired, before the broker acts on it.
    struct Firing: Sendable {
        let rule: MonitoringRule
        let refusals: MonitoringRule.Refusals
        let workload: SPIFFEID
        let task: String?
        let taskType: String?
        let observed: Int
    }

    struct State {
        var windows = RefusalWindows()
        var tasks: [String: TaskFacts] = [:]
    }

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
            let firings = self.count(
                signal.code,
                times: 1,
                workload: signal.workload,
                task: signal.task,
                taskType: signal.taskType
            )
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
        var firings: [Firing] = []
        var accepted = 0
        for record in report.records {
            let facts = try await facts(of: record)
            guard let workload = facts.workload else { continue }
            accepted += 1
            guard record.outcome != UsageRecord.allowed else { continue }
            firings += count(
                record.outcome,
                times: record.count,
                workload: workload,
                task: facts.task,
                taskType: facts.type
            )
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

    /// Counts refusals against every rule that watches them; the rules that fire.
    func count(_ code: String, times: Int, workload: SPIFFEID, task: String?, taskType: String?) -> [Firing] {
        let second = context.clock.now.numericDate
        var firings: [Firing] = []
        for rule in context.policies.monitoring {
            guard let refusals = rule.refusals, refusals.codes.contains(code),
                rule.watches(workload, taskType: taskType)
            else { continue }
            let subject: String
            switch refusals.per {
            case .task:
                guard let task else { continue }
                subject = task
            case .workload: subject = workload.description
            }
            let observed = state.withLock { state in
                state.windows.add(
                    times,
                    to: .init(rule: rule.id, subject: subject),
                    at: second,
                    window: Int64(refusals.within),
                    threshold: refusals.moreThan
                )
            }
            if let observed {
                firings.append(
                    Firing(
                        rule: rule,
                        refusals: refusals,
                        workload: workload,
                        task: refusals.per == .task ? task : nil,
                        taskType: taskType,
                        observed: observed
                    )
                )
            }
        }
        return firings
    }

    /// Drops refusal windows idle for a day.
    func prune(now: Date) {
        state.withLock { $0.windows.prune(now: now.numericDate, idle: 86_400) }
    }
}
