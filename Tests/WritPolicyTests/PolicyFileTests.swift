import Foundation
import Testing
import WritPolicy
import WritToken

@Suite("policy files")
struct PolicyFileTests {
    struct Bad: Sendable, CustomStringConvertible {
        let yaml: String
        let line: Int
        let message: String
        var description: String { message }
    }

    static let bad: [Bad] = [
        Bad(yaml: "rules:\n  - id: a\n    effect: allow\n", line: 3, message: "effect must be permit or forbid"),
        Bad(yaml: "rules:\n  - id: a\n    effect: permit\n    colour: red\n", line: 4, message: "unknown key 'colour'"),
        Bad(yaml: "rules:\n  - id: a\n    effect: permit\n", line: 2, message: "grants nothing"),
        Bad(yaml: "rulez: []\n", line: 1, message: "unknown key 'rulez'"),
        Bad(yaml: "rules:\n  - effect: permit\n", line: 2, message: "needs an 'id'"),
        Bad(
            yaml: "rules:\n  - id: a\n    effect: permit\n    resources:\n      - type: doc\n        actions: read\n",
            line: 5,
            message: "needs 'locations'"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read, identifiers: \"{task.owner}/*\" }\n",
            line: 5,
            message: "unknown template {task.owner}"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    when:\n      user: absent\n    resources:\n      - { type: doc, locations: x, actions: read, identifiers: \"{user.sub}\" }\n",
            line: 2,
            message: "can never match"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    when:\n      delegation: { min_depth: 2, max_depth: 1 }\n    resources:\n      - { type: doc, locations: x, actions: read }\n",
            line: 2,
            message: "can never match"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    when:\n      workload: { id: spiffe://a.org/x, trust_domain: b.org }\n    resources:\n      - { type: doc, locations: x, actions: read }\n",
            line: 2,
            message: "can never match"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    when:\n      workload: { id: \"spiffe://A.org/x\" }\n    resources:\n      - { type: doc, locations: x, actions: read }\n",
            line: 5,
            message: "bad workload id pattern"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read }\n    limits: { task_duration: 5 }\n",
            line: 6,
            message: "positive duration"
        ),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read, identifiers: \"a/**b\" }\n",
            line: 5,
            message: "** must be a whole segment"
        ),
        Bad(
            yaml: "rules:\n  - id: a\n    effect: forbid\n    limits: { resources: 1 }\n",
            line: 4,
            message: "only a permit has limits"
        ),
        Bad(yaml: "rules:\n  - &x { id: a }\n  - *x\n", line: 2, message: "anchors and aliases are not allowed"),
        Bad(yaml: "rules: [\n", line: 2, message: "not valid YAML"),
        Bad(
            yaml:
                "rules:\n  - id: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read }\n    limits: { token_lifetime: 2h, task_duration: 1h }\n",
            line: 6,
            message: "token_lifetime cannot exceed task_duration"
        ),
    ]

    @Test("each malformed file is refused with its line and what is expected", arguments: bad)
    func malformed(bad: Bad) throws {
        let diagnostics = PolicyFixtures.diagnostics(bad.yaml)
        let first = try #require(diagnostics.first)
        #expect(first.message.contains(bad.message), "\(first)")
        #expect(first.location.line == bad.line, "\(first)")
        #expect(first.location.file == "bad.yaml")
        #expect(first.description.hasPrefix("bad.yaml:\(bad.line):"))
    }

    @Test("every independent problem of a file is reported, each with its own line, and the good rules between are not")
    func everyProblem() {
        let yaml = """
            rules:
              - id: first
                effect: allow
              - id: fine
                effect: forbid
              - id: second
                effect: permit
                resources:
                  - { type: doc, locations: x, actions: read, identifiers: "a/**b" }
              - id: third
                effect: permit
                colour: red
                resources:
                  - { type: doc, locations: x, actions: read }
            """
        let diagnostics = PolicyFixtures.diagnostics(yaml)
        #expect(diagnostics.map(\.location.line) == [3, 9, 12], "\(diagnostics)")
        #expect(diagnostics.map(\.location.file) == ["bad.yaml", "bad.yaml", "bad.yaml"])
        #expect(diagnostics.count == 3)
        #expect(diagnostics[0].message.contains("effect must be permit or forbid"))
        #expect(diagnostics[1].message.contains("** must be a whole segment"))
        #expect(diagnostics[2].message.contains("unknown key 'colour'"))
    }

    @Test(
        "one mistake gives one diagnostic, not a cascade",
        arguments: [
            // A misspelt key is not also reported missing.
            "rules:\n  - idd: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read }\n",
            "rules:\n  - id: a\n    effect: permit\n    resource:\n      - { type: doc, locations: x, actions: read }\n",
            // An unreadable effect does not make its resources wrong for a permit or a forbid.
            "rules:\n  - id: a\n    effect: allow\n    resources:\n      - { type: doc, wildcards: true }\n",
            // A refused condition does not make the rule unsatisfiable as well.
            "rules:\n  - id: a\n    effect: permit\n    when:\n      delegation: { min_depth: x, max_depth: 1 }\n    resources:\n      - { type: doc, locations: x, actions: read }\n",
            // A refused duration is not compared with the other one.
            "rules:\n  - id: a\n    effect: permit\n    resources:\n      - { type: doc, locations: x, actions: read }\n    limits: { token_lifetime: forever, task_duration: 1m }\n",
        ]
    )
    func noCascade(yaml: String) {
        let diagnostics = PolicyFixtures.diagnostics(yaml)
        #expect(diagnostics.count == 1, "\(diagnostics)")
    }

    @Test("problems in several files are all reported, file by file")
    func severalFiles() {
        let outcome = PolicyLoader.load(sources: [
            ("a.yaml", "rules:\n  - id: a\n    effect: allow\n  - id: b\n    effect: deny\n"),
            ("b.yaml", "rules:\n  - id: c\n    effect: permit\n"),
        ])
        guard case .failure(let errors) = outcome else {
            Issue.record("loaded")
            return
        }
        #expect(
            errors.diagnostics.map { String($0.description.prefix(11)) } == [
                "a.yaml:3:13", "a.yaml:5:13", "b.yaml:2:5:",
            ]
        )
    }

    @Test("duplicate rule ids across files are refused, naming both places")
    func duplicateIDs() {
        let rule = "rules:\n  - id: same\n    effect: forbid\n"
        guard case .failure(let errors) = PolicyLoader.load(sources: [("a.yaml", rule), ("b.yaml", rule)]) else {
            Issue.record("loaded")
            return
        }
        #expect(errors.diagnostics.count == 1)
        #expect(errors.description.contains("b.yaml:2:5") && errors.description.contains("first defined at a.yaml:2:5"))
    }

    @Test("one bad file keeps the whole set from loading")
    func allOrNothing() {
        let good = "rules:\n  - id: ok\n    effect: forbid\n"
        let outcome = PolicyLoader.load(sources: [("good.yaml", good), ("bad.yaml", "rules: 3\n")])
        guard case .failure = outcome else {
            Issue.record("a set with a bad file loaded")
            return
        }
    }

    @Test("the example policies in policies/ load, and every one of their tests passes")
    func examples() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let policies = try PolicyLoader.load(directory: root.appendingPathComponent("policies")).get()
        #expect(policies.rules.count >= 8)
        let testFiles = try PolicyLoader.files(in: root.appendingPathComponent("policies/tests"))
        #expect(testFiles.count >= 4)
        var count = 0
        for file in testFiles {
            for test in try PolicyTestRunner.tests(in: try String(contentsOf: file, encoding: .utf8), file: file.path) {
                count += 1
                #expect(
                    test.failure(against: policies) == nil,
                    "\(test.name): \(test.failure(against: policies) ?? "")"
                )
            }
        }
        #expect(count >= 20)
    }
}
