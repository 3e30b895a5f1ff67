public import WritToken

/// A monitoring test: usage fed to the `monitoring` rules, and the firings it must give (no more, no fewer).
public struct MonitoringTestCase: Sendable {
    /// One firing a test expects; nil fields are not compared.
    public struct ExpectedFiring: Sendable, CustomStringConvertible {
        public var rule: String
        public var response: String?
        public var task: String?
        public var workload: String?

        func matches(_ firing: MonitoringFiring) -> Bool {
            firing.rule.id == rule && (response == nil || firing.rule.response.rawValue == response)
                && (task == nil || firing.task == task) && (workload == nil || firing.workload.description == workload)
        }

        public var description: String {
            var text = rule
            if let response { text += " \(response)" }
            if let task { text += " task \(task)" }
            if let workload { text += " workload \(workload)" }
            return text
        }
    }

    public let name: String
    public let location: SourceLocation
    /// The usage, in order.
    public let usage: [UsageEvent]
    /// Tasks that report nothing for this long join their baseline before the next event.
    public let finishIdle: Int64
    public let expected: [ExpectedFiring]

    /// Runs the test; nil when it passes, otherwise why it failed.
    public func failure(against policies: PolicySet) -> String? {
        var evaluator = MonitoringEvaluator()
        var fired: [MonitoringFiring] = []
        for event in usage {
            evaluator.finishIdleTasks(now: event.second, idle: finishIdle)
            fired += evaluator.observe(event, rules: policies.monitoring)
        }
        let describe = { (firings: [MonitoringFiring]) in
            firings.isEmpty
                ? "nothing"
                : firings.map { "\($0.rule.id) \($0.rule.response.rawValue) \($0.task.map { "task " + $0 } ?? "")" }
                    .joined(separator: "; ")
        }
        var unmatched = fired
        for expectation in expected {
            guard let index = unmatched.firstIndex(where: expectation.matches) else {
                return "expected \(expectation) to fire; fired: \(describe(fired))"
            }
            unmatched.remove(at: index)
        }
        if !unmatched.isEmpty { return "unexpected firings: \(describe(unmatched))" }
        return nil
    }
}

extension PolicyTestRunner {
    static let monitoringTestKeys = ["name", "usage", "expect", "finish_idle"]
    static let usageKeys = [
        "workload", "task", "task_type", "token", "audience", "action", "resource", "identifier", "outcome", "count",
        "at", "repeat",
    ]

    /// Reads every monitoring test in a document (`monitoring_tests`).
    public static func monitoringTests(in text: String, file: String) throws(PolicyDiagnostic) -> [MonitoringTestCase] {
        guard let root = try YAMLNode.parse(text, file: file) else { return [] }
        let top = try root.mapping(allowed: ["tests", "monitoring_tests"], what: "a policy test file")
        guard let list = top["monitoring_tests"] else { return [] }
        var cases: [MonitoringTestCase] = []
        for node in try list.sequence("monitoring_tests") {
            let fields = try node.mapping(allowed: monitoringTestKeys, what: "a monitoring test")
            guard let name = fields["name"], let usage = fields["usage"], let expect = fields["expect"] else {
                throw node.error("a monitoring test needs 'name', 'usage' and 'expect' (an empty list: nothing fires)")
            }
            var events: [UsageEvent] = []
            for item in try usage.sequence("usage") { events += try Self.events(item) }
            var expected: [MonitoringTestCase.ExpectedFiring] = []
            for item in try expect.sequence("expect") {
                let firing = try item.mapping(allowed: ["rule", "response", "task", "workload"], what: "a firing")
                guard let rule = firing["rule"] else { throw item.error("an expected firing needs a 'rule'") }
                expected.append(
                    .init(
                        rule: try rule.nonEmptyString("rule"),
                        response: try firing["response"]?.string("response"),
                        task: try firing["task"]?.string("task"),
                        workload: try firing["workload"]?.string("workload")
                    )
                )
            }
            cases.append(
                MonitoringTestCase(
                    name: try name.nonEmptyString("name"),
                    location: node.location,
                    usage: events,
                    finishIdle: Int64(try fields["finish_idle"]?.duration("finish_idle") ?? 30),
                    expected: expected
                )
            )
        }
        return cases
    }

    /// One usage line: an event, or `repeat` events one second apart.
    static func events(_ node: YAMLNode) throws(PolicyDiagnostic) -> [UsageEvent] {
        let fields = try node.mapping(allowed: usageKeys, what: "a usage line")
        guard let workloadNode = fields["workload"], let outcome = fields["outcome"] else {
            throw node.error("a usage line needs 'workload' and 'outcome' (allowed, subtask, or a refusal code)")
        }
        let workload: SPIFFEID
        do {
            workload = try SPIFFEID(try workloadNode.string("workload"))
        } catch {
            throw workloadNode.error("workload must be a SPIFFE ID")
        }
        let code = try outcome.string("outcome")
        // `subtask`: the task started a sub-task (its fan-out), as the broker counts it.
        guard [UsageEvent.allowed, UsageEvent.subtask].contains(code) || MonitoringRule.refusalCodes.contains(code)
        else {
            throw outcome.error(
                "outcome must be allowed, subtask or one of: \(MonitoringRule.refusalCodes.joined(separator: ", "))"
            )
        }
        let count = try fields["count"]?.integer("count") ?? 1
        guard count > 0 else { throw node.error("count must be at least 1") }
        let start = Int64(try fields["at"]?.integer("at") ?? 0)
        let times = try fields["repeat"]?.integer("repeat") ?? 1
        guard (1...10_000).contains(times) else { throw node.error("repeat must be from 1 to 10000") }
        let event = UsageEvent(
            workload: workload,
            task: try fields["task"]?.string("task"),
            taskType: try fields["task_type"]?.string("task_type"),
            token: try fields["token"]?.string("token"),
            audience: try fields["audience"]?.string("audience") ?? "",
            action: try fields["action"]?.string("action"),
            resourceType: try fields["resource"]?.string("resource"),
            identifier: try fields["identifier"]?.string("identifier"),
            outcome: code,
            count: count,
            second: start
        )
        return (0..<times).map { offset in
            var next = event
            next.second = start + Int64(offset)
            return next
        }
    }
}
