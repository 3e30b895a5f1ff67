import Foundation
import Testing
import WritPolicy
import WritToken

/// Observed usage set against the policies: the least-privilege report and the observed map.
@Suite("Observed usage against the policies")
struct ObservedUsageTests {
    static let policy = """
        rules:
          - id: reads-handbook-and-finance
            effect: permit
            when:
              workload: { id: spiffe://example.org/agents/retrieval-assistant }
              task: { type: answer-question }
            resources:
              - { type: document, locations: https://docs.example.org, identifiers: "departments/{user.department}/**", actions: read }
              - { type: document, locations: https://docs.example.org, identifiers: "finance/reports/*", actions: read }
              - { type: ticket, locations: https://tickets.example.org, actions: [read, comment] }
          - id: billing
            effect: permit
            when:
              workload: { id: spiffe://example.org/agents/billing }
            resources:
              - { type: invoice, locations: https://billing.example.org, actions: read }
        """

    static func observed() throws -> (PolicySet, ObservedUsage) {
        let set = try PolicyLoader.load(sources: [("p.yaml", Self.policy)]).get()
        var baseline = UsageBaseline(
            workload: "spiffe://example.org/agents/retrieval-assistant",
            taskType: "answer-question",
            now: 1000
        )
        baseline.tasks = 12
        let docs = "https://docs.example.org"
        baseline.record(
            .init(audience: docs, resourceType: "document", action: "read", prefix: "departments/hr/handbook"),
            allowed: true,
            count: 40,
            at: 1000
        )
        baseline.record(
            .init(audience: docs, resourceType: "document", action: "read", prefix: "legal/contracts"),
            allowed: false,
            count: 3,
            at: 1000
        )
        // Used long ago: outside the window.
        baseline.record(
            .init(audience: "https://tickets.example.org", resourceType: "ticket", action: "read", prefix: ""),
            allowed: true,
            count: 5,
            at: 10
        )
        return (set, ObservedUsage(baselines: [baseline], since: 500))
    }

    @Test("the report lists unused permits and entries, and counts the used ones")
    func report() throws {
        let (set, observed) = try Self.observed()
        let findings = UsageSuggestion.report(policies: set, observed: observed)
        let byEntry = Dictionary(uniqueKeysWithValues: findings.map { ("\($0.rule) \($0.entry ?? "")", $0) })
        let handbook = try #require(
            byEntry[
                "reads-handbook-and-finance read document departments/{user.department}/** at https://docs.example.org"
            ]
        )
        #expect(handbook.kind == .used && handbook.uses == 40 && handbook.tasks == 12)
        #expect(
            byEntry["reads-handbook-and-finance read document finance/reports/* at https://docs.example.org"]?.kind
                == .unusedEntry
        )
        #expect(
            byEntry["reads-handbook-and-finance read, comment ticket at https://tickets.example.org"]?.kind
                == .unusedEntry,
            "used only before the window"
        )
        #expect(byEntry["billing "]?.kind == .unusedRule)
        #expect(findings.filter { $0.kind != .used }.count == 3)
        #expect(byEntry["billing "]?.text.contains("candidate to remove") == true)
    }

    @Test("the observed map marks used and never-used permits and draws refused traffic in red")
    func graph() throws {
        let (set, observed) = try Self.observed()
        let graph = SegmentationGraph(policies: set, observed: observed)
        #expect(graph.observed.map(\.audience) == ["https://docs.example.org"])
        #expect(graph.observed.first?.allowed == 40 && graph.observed.first?.refused == 3)
        let dot = graph.dot
        #expect(dot.contains("used 40×"))
        #expect(dot.contains("never used") && dot.contains("style=dotted, color=gray50"))
        #expect(dot.contains("observed: 40 allowed, 3 refused"))
        // Without observed usage the map is the policy's alone.
        #expect(!SegmentationGraph(policies: set).dot.contains("used"))
    }
}
