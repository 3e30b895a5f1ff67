public import WritToken

/// One use or refusal at a resource server (or one of the broker's own signals), as the rules see it.
public struct UsageEvent: Sendable, Hashable {
    public var workload: SPIFFEID
    public var task: String?
    public var taskType: String?
    public var token: String?
    /// The resource server's audience.
    public var audience: String
    public var action: String?
    public var resourceType: String?
    public var identifier: String?
    /// `allowed`, or the refusal's code.
    public var outcome: String
    public var count: Int
    /// When, in seconds since the epoch.
    public var second: Int64

    /// The outcome of an allowed use.
    public static let allowed = "allowed"
    /// The outcome the broker gives a task's sub-task being created (its fan-out), not a use.
    public static let subtask = "subtask"

    /// An event.
    public init(
        workload: SPIFFEID,
        task: String? = nil,
        taskType: String? = nil,
        token: String? = nil,
        audience: String = "",
        action: String? = nil,
        resourceType: String? = nil,
        identifier: String? = nil,
        outcome: String,
        count: Int = 1,
        second: Int64
    ) {
        self.workload = workload
        self.task = task
        self.taskType = taskType
        self.token = token
        self.audience = audience
        self.action = action
        self.resourceType = resourceType
        self.identifier = identifier
        self.outcome = outcome
        self.count = count
        self.second = second
    }
}

/// A rule that fired, with what it counted and what it compared that with.
public struct MonitoringFiring: Sendable, Hashable {
    public var rule: MonitoringRule
    public var workload: SPIFFEID
    public var task: String?
    public var taskType: String?
    /// What was counted: refusals in the window, a task's requests, or uses of the new resource.
    public var observed: Int
    /// The count that had to be exceeded.
    public var threshold: Int
    /// The window, in seconds (refusal rules).
    public var window: Int
    /// The refusal codes counted (refusal rules).
    public var codes: [String]
    /// The baseline compared with, in words (baseline rules).
    public var baseline: String?
}

extension MonitoringFiring {
    /// A firing on one event of a task, with no window or threshold (`new_resource`, `two_bindings`).
    static func once(
        _ rule: MonitoringRule,
        _ event: UsageEvent,
        task: String,
        taskType: String,
        codes: [String],
        baseline: String?
    ) -> MonitoringFiring {
        MonitoringFiring(
            rule: rule,
            workload: event.workload,
            task: task,
            taskType: taskType,
            observed: event.count,
            threshold: 0,
            window: 0,
            codes: codes,
            baseline: baseline
        )
    }
}

/// The monitoring rules' state and judgement: refusal windows, baselines per workload and task type, and the
/// tasks reporting now. Pure: the broker keeps one behind a lock and feeds it reports; `writ policy test`
/// feeds it a test's usage.
public struct MonitoringEvaluator: Sendable {
    /// A baseline's key.
    public struct BaselineKey: Hashable, Sendable {
        public var workload: String
        public var taskType: String

        /// A key.
        public init(workload: String, taskType: String) {
            self.workload = workload
            self.taskType = taskType
        }
    }

    struct LiveTask: Sendable {
        var key: BaselineKey
        var requests = 0
        var refusals = 0
        var tokens: Set<String> = []
        var subtasks = 0
        var lastSeen: Int64
        var fired: Set<String> = []
    }

    /// The most tasks followed at once, and baselines kept.
    public static let maximumLiveTasks = 50_000
    public static let maximumBaselines = 10_000

    public var windows = RefusalWindows()
    /// The baselines, by workload and task type.
    public var baselines: [BaselineKey: UsageBaseline] = [:]
    /// Baselines changed since the broker last saved them.
    public var changed: Set<BaselineKey> = []
    var live: [String: LiveTask] = [:]

    /// An empty state.
    public init() {}

    /// How many tasks are followed now.
    public var liveTasks: Int { live.count }

    /// The tasks reporting now, per baseline: how many, and their requests and refusals so far.
    public var liveSummary: [BaselineKey: (tasks: Int, requests: Int, refusals: Int)] {
        var summary: [BaselineKey: (tasks: Int, requests: Int, refusals: Int)] = [:]
        for task in live.values {
            let known = summary[task.key] ?? (0, 0, 0)
            summary[task.key] = (known.tasks + 1, known.requests + task.requests, known.refusals + task.refusals)
        }
        return summary
    }

    /// Counts one event; the rules that fire.
    public mutating func observe(_ event: UsageEvent, rules: [MonitoringRule]) -> [MonitoringFiring] {
        var firings: [MonitoringFiring] = []
        if event.outcome != UsageEvent.allowed, event.outcome != UsageEvent.subtask {
            firings += refusals(event, rules: rules)
        }
        guard let task = event.task, let taskType = event.taskType else { return firings }
        let key = BaselineKey(workload: event.workload.description, taskType: taskType)
        let isNew = live[task] == nil
        // Finished before the baseline is taken out, so the figures it adds to this baseline are kept.
        if isNew, live.count >= Self.maximumLiveTasks { finishIdleTasks(now: event.second, idle: 0, limit: 1000) }
        // Taken out of their dictionaries while they change, so their members are changed in place rather than
        // copied (a baseline holds up to 256 uses): each is put back below.
        let known = baselines.removeValue(forKey: key)
        var baseline = known ?? UsageBaseline(workload: key.workload, taskType: taskType, now: event.second)
        var current = live.removeValue(forKey: task) ?? LiveTask(key: key, lastSeen: event.second)
        if isNew { baseline.tasks += 1 }
        if event.outcome == UsageEvent.subtask {
            // Fan-out: counted for the task, neither a request nor a use.
            current.subtasks += event.count
        } else {
            current.requests += event.count
            if event.outcome != UsageEvent.allowed { current.refusals += event.count }
            if let token = event.token, current.tokens.count < 64 { current.tokens.insert(token) }
        }
        current.lastSeen = max(current.lastSeen, event.second)
        // The use this event makes, read once for the rules and the baseline.
        let use = event.resourceType.map { type in
            UsageBaseline.Use(
                audience: event.audience,
                resourceType: type,
                action: event.action ?? "",
                prefix: UsageBaseline.Use.prefix(of: event.identifier)
            )
        }
        for rule in rules where rule.watches(event.workload, taskType: taskType) && !current.fired.contains(rule.id) {
            if let firing = judge(rule, event, use: use, task: task, baseline: baseline, current: current) {
                current.fired.insert(rule.id)
                firings.append(firing)
            }
        }
        if event.outcome == UsageEvent.subtask {
            live[task] = current
            store(baseline, key, isNew: known == nil)
            return firings
        }
        if let use {
            baseline.record(use, allowed: event.outcome == UsageEvent.allowed, count: event.count, at: event.second)
        }
        live[task] = current
        store(baseline, key, isNew: known == nil)
        return firings
    }

    private mutating func refusals(_ event: UsageEvent, rules: [MonitoringRule]) -> [MonitoringFiring] {
        var firings: [MonitoringFiring] = []
        for rule in rules {
            guard let refusals = rule.refusals, refusals.codes.contains(event.outcome),
                rule.watches(event.workload, taskType: event.taskType)
            else { continue }
            let subject: String
            switch refusals.per {
            case .task:
                guard let task = event.task else { continue }
                subject = task
            case .workload: subject = event.workload.description
            }
            let key = RefusalWindows.Key(rule: rule.id, subject: subject)
            let window = Int64(refusals.within)
            guard
                let observed = windows.add(
                    event.count,
                    to: key,
                    at: event.second,
                    window: window,
                    threshold: refusals.moreThan
                )
            else { continue }
            firings.append(
                MonitoringFiring(
                    rule: rule,
                    workload: event.workload,
                    task: refusals.per == .task ? event.task : nil,
                    taskType: event.taskType,
                    observed: observed,
                    threshold: refusals.moreThan,
                    window: Int(window),
                    codes: refusals.codes.sorted(),
                    baseline: nil
                )
            )
        }
        return firings
    }

    /// A baseline rule's judgement of a task's event, before the event joins the baseline.
    private func judge(
        _ rule: MonitoringRule,
        _ event: UsageEvent,
        use: UsageBaseline.Use?,
        task: String,
        baseline: UsageBaseline,
        current: LiveTask
    ) -> MonitoringFiring? {
        let of = "\(baseline.tasks - 1) \(baseline.taskType) tasks of \(baseline.workload)"
        let subtask = event.outcome == UsageEvent.subtask
        switch rule.detection {
        case .refusals: return nil
        case .twoBindings:
            guard event.outcome == VerificationError.Code.bindingMismatch.rawValue else { return nil }
            return .once(rule, event, task: task, taskType: baseline.taskType, codes: [event.outcome], baseline: nil)
        case .fanOut(let fanOut):
            guard subtask else { return nil }
            return beyond(
                fanOut,
                rule: rule,
                event: event,
                task: task,
                observed: current.subtasks,
                of: baseline.subtasksPerTask,
                what: "sub-tasks",
                baseline: baseline
            )
        case .newResource(let novelty):
            guard !subtask, baseline.tasks - 1 >= novelty.afterTasks, let use, !baseline.knows(use) else { return nil }
            let why = "\(use.text) (\(event.outcome)) was never allowed in the baseline of \(of)"
            return .once(rule, event, task: task, taskType: baseline.taskType, codes: [], baseline: why)
        case .rate(let rate):
            guard !subtask else { return nil }
            return beyond(
                rate,
                rule: rule,
                event: event,
                task: task,
                observed: current.requests,
                of: baseline.requestsPerTask,
                what: "requests",
                baseline: baseline
            )
        }
    }

    /// A firing when `observed` is above `multiple.above` × the p99 of a baseline's per-task figures, once it
    /// holds `multiple.afterTasks` of them.
    private func beyond(
        _ multiple: MonitoringRule.Rate,
        rule: MonitoringRule,
        event: UsageEvent,
        task: String,
        observed: Int,
        of figures: [Int],
        what: String,
        baseline: UsageBaseline
    ) -> MonitoringFiring? {
        guard figures.count >= multiple.afterTasks, let p99 = UsageBaseline.percentile(99, of: figures) else {
            return nil
        }
        let product = (multiple.above * Double(max(p99, 1))).rounded(.down)
        let limit = product < 1e15 ? Int(product) : 1_000_000_000_000_000
        guard observed > limit else { return nil }
        return MonitoringFiring(
            rule: rule,
            workload: event.workload,
            task: task,
            taskType: baseline.taskType,
            observed: observed,
            threshold: limit,
            window: 0,
            codes: [],
            baseline: "p99 \(p99) \(what) per task over the last \(figures.count) finished "
                + "\(baseline.taskType) tasks of \(baseline.workload), × \(multiple.above)"
        )
    }

    /// Puts a baseline (back) in; a new one past ``maximumBaselines`` pushes out the one changed longest ago.
    private mutating func store(_ baseline: UsageBaseline, _ key: BaselineKey, isNew: Bool) {
        if isNew, baselines.count >= Self.maximumBaselines,
            let oldest = baselines.min(by: { $0.value.updated < $1.value.updated })?.key
        {
            baselines[oldest] = nil
        }
        baselines[key] = baseline
        changed.insert(key)
    }

    /// Adds tasks that reported nothing for `idle` seconds to their baselines' per-task figures (at most
    /// `limit`, longest idle first).
    public mutating func finishIdleTasks(now: Int64, idle: Int64, limit: Int = .max) {
        let finished = live.filter { $0.value.lastSeen <= now - idle }.sorted { $0.value.lastSeen < $1.value.lastSeen }
            .prefix(limit)
        for (id, task) in finished {
            live[id] = nil
            guard var baseline = baselines[task.key] else { continue }
            baseline.finish(
                requests: task.requests,
                refusals: task.refusals,
                tokens: task.tokens.count,
                subtasks: task.subtasks,
                at: now
            )
            baselines[task.key] = baseline
            changed.insert(task.key)
        }
    }

    /// Forgets uses not seen within `window` seconds, and refusal windows idle for a day.
    public mutating func prune(now: Int64, baselineWindow: Int64) {
        windows.prune(now: now, idle: 86_400)
        for (key, var baseline) in baselines {
            let before = baseline.uses.count
            baseline.forget(before: now - baselineWindow)
            if baseline.uses.count != before {
                baselines[key] = baseline
                changed.insert(key)
            }
        }
    }

    /// Forgets every refusal window of a workload or task (a released workload starts again).
    public mutating func forget(subject: String) { windows.forget(subject: subject) }
}
