import Foundation
import Testing
import WritPolicy
import WritToken

/// The `monitoring` section of policy files: detection rules read strictly, every problem reported.
@Suite("Monitoring rules in policy files")
struct MonitoringRuleTests {
    static func problems(_ text: String) -> [String] {
        guard case .failure(let errors) = PolicyLoader.load(sources: [("watch.yaml", text)]) else { return [] }
        return errors.diagnostics.map(\.description)
    }

    @Test("a rule reads with its scope, detection and response; defaults fill what it leaves out")
    func reads() throws {
        let text = """
            monitoring:
              - id: probing
                description: one task probing outside its grant
                when:
                  workload: spiffe://example.org/agents/*
                  task_type: [answer-question, summarize]
                refusals:
                  codes: [insufficient_authorization, revoked]
                  more_than: 5
                  within: 1m
                response: quarantine_workload
              - id: loud
                refusals: { more_than: 0, within: 10s, per: workload }
                response: alert
            """
        guard case .success(let set) = PolicyLoader.load(sources: [("watch.yaml", text)]) else {
            Issue.record("does not load: \(Self.problems(text))")
            return
        }
        #expect(set.monitoring.map(\.id) == ["loud", "probing"])
        let probing = set.monitoring[1]
        #expect(probing.response == .quarantineWorkload && probing.taskTypes == ["answer-question", "summarize"])
        #expect(
            probing.refusals
                == MonitoringRule.Refusals(
                    codes: ["insufficient_authorization", "revoked"],
                    moreThan: 5,
                    within: 60,
                    per: .task
                )
        )
        let agent = try SPIFFEID("spiffe://example.org/agents/retrieval")
        #expect(probing.watches(agent, taskType: "summarize"))
        #expect(!probing.watches(agent, taskType: "deploy") && !probing.watches(agent, taskType: nil))
        #expect(!probing.watches(try SPIFFEID("spiffe://other.org/agents/retrieval"), taskType: "summarize"))
        let loud = set.monitoring[0]
        #expect(loud.refusals?.codes == MonitoringRule.defaultCodes && loud.refusals?.per == .workload)
        #expect(loud.watches(try SPIFFEID("spiffe://other.org/x"), taskType: nil))
    }

    @Test("every problem is reported, with where it is and what is expected")
    func problems() {
        let found = Self.problems(
            """
            monitoring:
              - id: a
                refusals: { codes: [not_a_code], more_than: 5, within: 30s }
                response: alert
              - id: b
                refusals: { more_than: 5, within: 2d }
                response: page_someone
              - id: c
                refusals: { more_than: 5, within: 30s, per: workload }
                response: revoke_task
              - id: d
                refusals: { within: 30s }
                response: alert
              - id: e
                response: alert
                when: { workload: "not-spiffe", tasktype: x }
            """
        )
        #expect(found.count == 8, "\(found)")
        #expect(found[0].hasPrefix("watch.yaml:3:") && found[0].contains("unknown refusal code 'not_a_code'"))
        #expect(found.contains { $0.contains("within must be a positive duration of at most 30 days") })
        #expect(found.contains { $0.contains("response must be one of: alert, revoke_task, quarantine_workload") })
        #expect(found.contains { $0.contains("monitoring rule 'c' counts per workload, so it has no one task") })
        #expect(found.contains { $0.contains("'refusals' needs 'more_than'") })
        #expect(
            found.contains {
                $0.contains(
                    "monitoring rule 'e' needs what it detects: 'refusals', 'new_resource', 'rate', 'fan_out' or "
                        + "'two_bindings'"
                )
            }
        )
        #expect(found.contains { $0.contains("unknown key 'tasktype'") })
        #expect(found.contains { $0.contains("workload 'not-spiffe'") })
    }

    @Test("fan_out and two_bindings read, and their problems are reported")
    func fanOutAndTwoBindings() throws {
        let text = """
            monitoring:
              - id: spawning
                fan_out: { above: 4, after_tasks: 10 }
                response: revoke_task
              - id: stolen
                two_bindings: true
                response: quarantine_workload
            """
        guard case .success(let set) = PolicyLoader.load(sources: [("watch.yaml", text)]) else {
            Issue.record("does not load: \(Self.problems(text))")
            return
        }
        #expect(set.monitoring.map(\.detection) == [.fanOut(.init(above: 4, afterTasks: 10)), .twoBindings])
        #expect(set.monitoring.map(\.detection.kind) == ["fan_out", "two_bindings"])
        let found = Self.problems(
            """
            monitoring:
              - id: a
                two_bindings: false
                response: alert
              - id: b
                fan_out: { after_tasks: 10 }
                response: alert
              - id: c
                fan_out: { above: 0.5 }
                two_bindings: true
                response: alert
            """
        )
        #expect(found.count == 3, "\(found)")
        let replayable = Self.problems(
            """
            monitoring:
              - id: r
                refusals: { codes: [broker_assertion_refused], more_than: 2, within: 5m, per: workload }
                response: quarantine_workload
            """
        )
        #expect(replayable.count == 1 && replayable[0].contains("its response must be alert"), "\(replayable)")
        #expect(found.contains { $0.contains("two_bindings must be true; leave the rule out") })
        #expect(found.contains { $0.contains("'fan_out' needs 'above'") })
        #expect(found.contains { $0.contains("detects one thing; it names fan_out and two_bindings") })
    }

    @Test("a monitoring rule's id may not repeat a rule's")
    func duplicateIDs() {
        let found = Self.problems(
            """
            rules:
              - id: same
                effect: forbid
                when: { workload: { id: spiffe://example.org/x } }
            monitoring:
              - id: same
                refusals: { more_than: 1, within: 5s }
                response: alert
            """
        )
        #expect(found.count == 1 && found[0].contains("duplicate rule id 'same'"), "\(found)")
    }

    @Test("the example policies' monitoring rules load")
    func examples() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies")
        guard case .success(let set) = PolicyLoader.load(directory: directory) else {
            Issue.record("the example policies do not load")
            return
        }
        #expect(set.monitoring.map(\.id).contains("retrieval-probing-outside-grant"))
    }
}
