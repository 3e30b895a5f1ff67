import Foundation
import Testing
import WritPolicy
import WritToken

/// The monitoring rules' judgement over synthetic usage: refusal windows, new resources, rates, baselines.
@Suite("Monitoring rules over usage")
struct MonitoringEvaluatorTests {
    static let agent = try! SPIFFEID("spiffe://example.org/agents/retrieval-assistant")
    static let docs = "https://docs.example.org"

    static func rules(_ text: String) throws -> [MonitoringRule] {
        try PolicyLoader.load(sources: [("watch.yaml", "monitoring:\n" + text)]).get().monitoring
    }

    static func use(
        _ task: String,
        _ identifier: String,
        outcome: String = UsageEvent.allowed,
        count: Int = 1,
        at second: Int64
    ) -> UsageEvent {
        UsageEvent(
            workload: agent,
            task: task,
            taskType: "answer-question",
            token: "tok-\(task)",
            audience: docs,
            action: "read",
            resourceType: "document",
            identifier: identifier,
            outcome: outcome,
            count: count,
            second: second
        )
    }

    @Test("refusals fire once past the threshold within the window, then count afresh; old ones fall out")
    func refusals() throws {
        let rules = try Self.rules(
            """
              - id: probing
                refusals: { more_than: 3, within: 10s }
                response: alert
            """
        )
        var evaluator = MonitoringEvaluator()
        let refusal = { (second: Int64) in
            Self.use("t1", "finance/x", outcome: "insufficient_authorization", at: second)
        }
        #expect(evaluator.observe(refusal(0), rules: rules).isEmpty)
        #expect(evaluator.observe(refusal(1), rules: rules).isEmpty)
        // Eleven seconds on, the first two have left the window.
        #expect(evaluator.observe(refusal(11), rules: rules).isEmpty)
        #expect(evaluator.observe(refusal(12), rules: rules).isEmpty)
        #expect(evaluator.observe(refusal(12), rules: rules).isEmpty)
        let fired = evaluator.observe(refusal(13), rules: rules)
        #expect(fired.map(\.observed) == [4] && fired.first?.task == "t1" && fired.first?.threshold == 3)
        #expect(evaluator.observe(refusal(14), rules: rules).isEmpty, "the window starts again after firing")
        // Allowed uses and other codes are not counted.
        for second in Int64(15)..<25 {
            #expect(evaluator.observe(Self.use("t1", "hr/a", at: second), rules: rules).isEmpty)
            #expect(evaluator.observe(Self.use("t1", "hr/a", outcome: "revoked", at: second), rules: rules).isEmpty)
        }
    }

    @Test("a flood of refusals fires once, then the rule is quiet for one window and counts afresh")
    func flood() throws {
        let rules = try Self.rules(
            """
              - id: probing
                refusals: { more_than: 5, within: 60s }
                response: quarantine_workload
            """
        )
        var evaluator = MonitoringEvaluator()
        var fired = 0
        for _ in 0..<1000 {
            let event = Self.use("t1", "finance/x", outcome: "insufficient_authorization", count: 1 << 30, at: 100)
            fired += evaluator.observe(event, rules: rules).count
        }
        #expect(fired == 1)
        // A response that did not take ends the quiet period: the next crossing fires again.
        var retried = evaluator
        retried.windows.forget(RefusalWindows.Key(rule: "probing", subject: "t1"))
        let again = Self.use("t1", "finance/x", outcome: "insufficient_authorization", count: 6, at: 101)
        #expect(retried.observe(again, rules: rules).count == 1)
        // Still quiet 59 seconds on; counting again from the window's end.
        #expect(
            evaluator.observe(
                Self.use("t1", "x", outcome: "insufficient_authorization", count: 9, at: 159),
                rules: rules
            ).isEmpty
        )
        #expect(
            evaluator.observe(
                Self.use("t1", "x", outcome: "insufficient_authorization", count: 6, at: 160),
                rules: rules
            ).count == 1
        )
    }

    @Test("a new resource is judged only once the baseline holds enough tasks, and only uses it never allowed")
    func newResource() throws {
        let rules = try Self.rules(
            """
              - id: novel
                new_resource: { after_tasks: 5 }
                response: alert
            """
        )
        var evaluator = MonitoringEvaluator()
        // Learning: five tasks reading HR handbook pages, one of them also a finance page (still learning).
        for task in 0..<5 {
            #expect(evaluator.observe(Self.use("t\(task)", "hr/handbook/leave", at: 0), rules: rules).isEmpty)
        }
        #expect(evaluator.observe(Self.use("t4", "finance/payroll/2026", at: 1), rules: rules).isEmpty)
        // Judging: the same prefix, a page never read before under it, and the finance prefix are known.
        #expect(evaluator.observe(Self.use("t5", "hr/handbook/expenses", at: 2), rules: rules).isEmpty)
        #expect(evaluator.observe(Self.use("t5", "finance/payroll/2027", at: 2), rules: rules).isEmpty)
        // A prefix never seen allowed fires, once per task.
        let fired = evaluator.observe(Self.use("t6", "legal/contracts/acme", at: 3), rules: rules)
        #expect(fired.count == 1 && fired[0].task == "t6")
        #expect(fired[0].baseline?.contains("read document legal/contracts/* at https://docs.example.org") == true)
        #expect(fired[0].baseline?.contains("baseline of 6 answer-question tasks") == true, "\(fired)")
        #expect(evaluator.observe(Self.use("t6", "legal/other/x", at: 3), rules: rules).isEmpty)
        // Another workload has a baseline of its own (empty: nothing is judged).
        var other = Self.use("t7", "legal/contracts/acme", at: 3)
        other.workload = try SPIFFEID("spiffe://example.org/agents/other")
        #expect(evaluator.observe(other, rules: rules).isEmpty)
    }

    @Test("a task far above the baseline's p99 of requests per task fires, once the baseline has finished tasks")
    func rate() throws {
        let rules = try Self.rules(
            """
              - id: busy
                rate: { above: 3, after_tasks: 10 }
                response: revoke_task
            """
        )
        var evaluator = MonitoringEvaluator()
        var second: Int64 = 0
        // Ten finished tasks of 2 to 5 requests each.
        for task in 0..<10 {
            for _ in 0..<(2 + task % 4) {
                #expect(evaluator.observe(Self.use("t\(task)", "hr/handbook/leave", at: second), rules: rules).isEmpty)
            }
            second += 1
        }
        evaluator.finishIdleTasks(now: second + 100, idle: 30)
        #expect(evaluator.liveTasks == 0)
        let baseline = try #require(evaluator.baselines.values.first)
        #expect(baseline.requestsPerTask.count == 10 && baseline.requestsP99 == 5 && baseline.tasks == 10)
        // Fifteen requests are allowed (3 × 5); the sixteenth fires.
        for _ in 0..<15 {
            #expect(evaluator.observe(Self.use("busy", "hr/handbook/leave", at: second + 200), rules: rules).isEmpty)
        }
        let fired = evaluator.observe(Self.use("busy", "hr/handbook/leave", at: second + 200), rules: rules)
        #expect(fired.map(\.observed) == [16] && fired.first?.threshold == 15 && fired.first?.task == "busy")
    }

    @Test("sub-tasks are counted as the task's fan-out, not as requests")
    func fanOut() throws {
        var evaluator = MonitoringEvaluator()
        let rules = try Self.rules(
            """
              - id: probing
                refusals: { more_than: 0, within: 10s }
                response: alert
            """
        )
        #expect(evaluator.observe(Self.use("t1", "hr/a", at: 0), rules: rules).isEmpty)
        var subtask = Self.use("t1", "hr/a", outcome: UsageEvent.subtask, count: 3, at: 1)
        subtask.resourceType = nil
        #expect(evaluator.observe(subtask, rules: rules).isEmpty, "a sub-task is not a refusal")
        evaluator.finishIdleTasks(now: 100, idle: 30)
        let baseline = try #require(evaluator.baselines.values.first)
        #expect(baseline.requestsPerTask == [1] && baseline.subtasksPerTask == [3] && baseline.subtasksP99 == 3)
    }

    @Test("a task starting far more sub-tasks than the baseline's p99 fires, once the baseline has finished tasks")
    func fanOutRule() throws {
        let rules = try Self.rules(
            """
              - id: spawning
                fan_out: { above: 2, after_tasks: 5 }
                response: revoke_task
            """
        )
        var evaluator = MonitoringEvaluator()
        let subtasks = { (task: String, count: Int, second: Int64) in
            var event = Self.use(task, "", outcome: UsageEvent.subtask, count: count, at: second)
            event.resourceType = nil
            return evaluator.observe(event, rules: rules)
        }
        // Five finished tasks of one to three sub-tasks: p99 3, so up to six are allowed.
        for task in 0..<5 {
            #expect(subtasks("t\(task)", 1 + task % 3, 0).isEmpty, "the baseline is still learning")
        }
        evaluator.finishIdleTasks(now: 100, idle: 30)
        #expect(evaluator.baselines.values.first?.subtasksP99 == 3)
        #expect(subtasks("wide", 4, 101).isEmpty)
        #expect(evaluator.observe(Self.use("wide", "hr/a", at: 101), rules: rules).isEmpty, "a use is not a sub-task")
        #expect(subtasks("wide", 2, 102).isEmpty)
        let fired = subtasks("wide", 1, 103)
        #expect(fired.map(\.observed) == [7] && fired.first?.threshold == 6 && fired.first?.task == "wide")
        #expect(fired.first?.baseline?.contains("p99 3 sub-tasks per task over the last 5 finished") == true)
        #expect(subtasks("wide", 5, 104).isEmpty, "once per task")
    }

    @Test("a token presented with another binding fires once per task; other proof refusals do not")
    func twoBindings() throws {
        let rules = try Self.rules(
            """
              - id: stolen
                two_bindings: true
                response: quarantine_workload
            """
        )
        var evaluator = MonitoringEvaluator()
        for code in ["proof_invalid", "proof_required", "proof_replayed", "insufficient_authorization"] {
            #expect(evaluator.observe(Self.use("t1", "hr/a", outcome: code, at: 0), rules: rules).isEmpty)
        }
        let fired = evaluator.observe(
            Self.use("t1", "hr/a", outcome: "binding_mismatch", count: 2, at: 1),
            rules: rules
        )
        #expect(fired.count == 1 && fired[0].task == "t1" && fired[0].codes == ["binding_mismatch"])
        #expect(fired[0].observed == 2 && fired[0].rule.id == "stolen")
        #expect(evaluator.observe(Self.use("t1", "hr/a", outcome: "binding_mismatch", at: 2), rules: rules).isEmpty)
        #expect(evaluator.observe(Self.use("t2", "hr/a", outcome: "binding_mismatch", at: 2), rules: rules).count == 1)
    }

    @Test("a full live-task table finishes its idlest tasks into their baselines, the reporting one's included")
    func fullLiveTable() throws {
        var evaluator = MonitoringEvaluator()
        for task in 0..<MonitoringEvaluator.maximumLiveTasks {
            _ = evaluator.observe(Self.use("t\(task)", "hr/a", at: 0), rules: [])
        }
        #expect(evaluator.liveTasks == MonitoringEvaluator.maximumLiveTasks)
        _ = evaluator.observe(Self.use("late", "hr/a", at: 10), rules: [])
        #expect(evaluator.liveTasks == MonitoringEvaluator.maximumLiveTasks - 1000 + 1)
        let baseline = try #require(evaluator.baselines.values.first)
        #expect(baseline.requestsPerTask.count == UsageBaseline.recentTasks, "the finished tasks' figures are kept")
        #expect(baseline.tasks == MonitoringEvaluator.maximumLiveTasks + 1)
    }

    @Test("baselines are bounded, roll, and know prefixes")
    func baselines() {
        #expect(UsageBaseline.Use.prefix(of: "departments/hr/handbook/leave") == "departments/hr/handbook")
        #expect(UsageBaseline.Use.prefix(of: "a/b/c/d/e/f") == "a/b/c/d")
        #expect(UsageBaseline.Use.prefix(of: "single") == "single" && UsageBaseline.Use.prefix(of: nil) == "")
        var baseline = UsageBaseline(workload: "w", taskType: "t", now: 0)
        for index in 0..<(UsageBaseline.maximumEntries + 10) {
            let use = UsageBaseline.Use(audience: "a", resourceType: "doc", action: "read", prefix: "p\(index)")
            baseline.record(use, allowed: true, count: 1, at: Int64(index))
        }
        #expect(baseline.uses.count == UsageBaseline.maximumEntries)
        #expect(!baseline.knows(.init(audience: "a", resourceType: "doc", action: "read", prefix: "p0")))
        baseline.forget(before: 200)
        #expect(baseline.uses.count == UsageBaseline.maximumEntries + 10 - 200)
        for value in 0..<300 { baseline.finish(requests: value, refusals: 0, tokens: 1, at: 0) }
        #expect(baseline.requestsPerTask.count == UsageBaseline.recentTasks && baseline.requestsPerTask.first == 100)
        #expect(UsageBaseline.percentile(99, of: Array(1...100)) == 99)
    }
}
