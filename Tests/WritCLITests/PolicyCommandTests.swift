import ArgumentParser
import Foundation
import Testing
import WritCLI
import WritToken

@Suite("writ policy")
struct PolicyCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let policies = root.appendingPathComponent("policies").path

    static func temporaryDirectory(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "writ-policy-\(UUID().uuidString)"
        )
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(text.utf8).write(to: url)
        }
        return directory.path
    }

    @Test("check accepts the example policies and reports each error with file, line and column")
    func check() throws {
        let ok = try PolicyCheckCommand.parse([Self.policies]).evaluate()
        #expect(ok.exitCode == 0)
        #expect(ok.output.hasPrefix("ok: "))
        #expect(ok.output.contains("monitoring rules"), "\(ok.output)")
        let bad = try Self.temporaryDirectory(["a.yaml": "rules:\n  - id: x\n    effect: maybe\n"])
        let refused = try PolicyCheckCommand.parse([bad]).evaluate()
        #expect(refused.exitCode == 1)
        #expect(refused.output.contains("/a.yaml:3:13: error: effect must be permit or forbid"))
        #expect(try PolicyCheckCommand.parse(["/nonexistent/policies"]).evaluate().exitCode == 2)
    }

    @Test("check prints every problem of a file, not only the first, and counts them")
    func checkEveryProblem() throws {
        let bad = try Self.temporaryDirectory([
            "a.yaml": """
            rules:
              - id: one
                effect: maybe
              - id: two
                effect: permit
                resources:
                  - { type: doc, locations: x }
              - id: three
                effect: forbid
                limits: { resources: 1 }
            """
        ])
        let refused = try PolicyCheckCommand.parse([bad]).evaluate()
        #expect(refused.exitCode == 1)
        let errors = refused.output.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 3, "\(refused.output)")
        #expect(refused.output.contains("/a.yaml:3:13: error: effect must be permit or forbid"))
        #expect(refused.output.contains("/a.yaml:7:9: error: a permitted resource needs 'actions'"))
        #expect(refused.output.contains("/a.yaml:10:13: error: only a permit has limits"))
        #expect(refused.output.hasSuffix("3 error(s); the policies were not loaded"))
    }

    @Test("test runs the example tests, and a failing test fails the run")
    func test() throws {
        let passing = try PolicyTestCommand.parse([Self.policies]).evaluate()
        #expect(passing.exitCode == 0, "\(passing.output)")
        #expect(passing.output.hasSuffix(" passed, 0 failed"))
        let failing = try Self.temporaryDirectory([
            "p.yaml": "rules:\n  - id: none\n    effect: forbid\n",
            "tests/t.yaml": """
            tests:
              - name: expects a permit that never comes
                request:
                  workload: spiffe://example.org/a
                  task: { type: t, authorization_details: [{ type: doc, actions: [read], locations: [x] }] }
                expect: { decision: permit }
            """,
        ])
        let failed = try PolicyTestCommand.parse([failing]).evaluate()
        #expect(failed.exitCode == 1)
        #expect(failed.output.contains("FAIL expects a permit that never comes"))
        #expect(failed.output.hasSuffix("0 passed, 1 failed"))
    }

    @Test("monitoring tests feed usage to the rules; a firing that does not come, or one not expected, fails")
    func monitoringTests() throws {
        let directory = try Self.temporaryDirectory([
            "p.yaml": """
            monitoring:
              - id: probing
                refusals: { more_than: 2, within: 10s }
                response: revoke_task
            """,
            "tests/t.yaml": """
            monitoring_tests:
              - name: three refusals fire
                usage:
                  - { workload: spiffe://example.org/a, task: t1, task_type: x, outcome: insufficient_authorization, repeat: 3 }
                expect:
                  - { rule: probing, response: revoke_task, task: t1 }
              - name: expects a firing that never comes
                usage:
                  - { workload: spiffe://example.org/a, task: t1, task_type: x, outcome: insufficient_authorization, count: 2 }
                expect:
                  - { rule: probing }
              - name: does not expect the one that comes
                usage:
                  - { workload: spiffe://example.org/a, task: t2, task_type: x, outcome: insufficient_authorization, count: 3 }
                expect: []
            """,
        ])
        let outcome = try PolicyTestCommand.parse([directory]).evaluate()
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.contains("FAIL expects a firing that never comes"))
        #expect(outcome.output.contains("expected probing to fire; fired: nothing"))
        #expect(outcome.output.contains("FAIL does not expect the one that comes"))
        #expect(outcome.output.contains("unexpected firings: probing revoke_task task t2"))
        #expect(outcome.output.hasSuffix("1 passed, 2 failed"), "\(outcome.output)")
    }

    @Test("explain gives the decision, the rules, and the smallest permitted change, as text or JSON")
    func explain() throws {
        let request =
            try Self.temporaryDirectory([
                "request.json": """
                {"workload":"spiffe://example.org/agents/billing-agent","user":{"sub":"s"},"task":{"type":"resolve-billing-ticket",
                "authorization_details":[{"type":"invoice","locations":["https://billing.example.org"],"identifier":"customers/1/invoices/2","actions":["read","delete"]}]}}
                """
            ]) + "/request.json"
        let text = try PolicyExplainCommand.parse(["--policies", Self.policies, request]).evaluate()
        #expect(text.exitCode == 1)
        #expect(text.output.contains("decision: deny"))
        #expect(text.output.contains("remove delete from entry 0"))
        let json = try PolicyExplainCommand.parse(["--policies", Self.policies, "--json", request]).evaluate()
        let parsed = try StrictJSON().parse(json.output).objectValue
        #expect(parsed?["decision"] == .string("deny"))
        #expect(parsed?["suggestion"]?.arrayValue?.count == 1)
    }

    @Test("graph maps workloads to resource servers, forbids in red, and renders SVG with Graphviz")
    func graph() throws {
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("writ-\(UUID().uuidString).svg").path
        let outcome = try PolicyGraphCommand.parse([Self.policies, "--svg", svg]).evaluate()
        #expect(outcome.exitCode == 0, "\(outcome.output)")
        #expect(outcome.output.hasPrefix("digraph writ_segmentation {"))
        #expect(outcome.output.contains("\"spiffe://example.org/agents/coding-agent\" -> \"https://git.example.org\""))
        #expect(outcome.output.contains("FORBID branch: push, delete, force_push"))
        let rendered = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(rendered.contains("<svg"))
    }
}
