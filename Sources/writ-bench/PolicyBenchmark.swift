import Foundation
import WritPolicy
import WritToken

/// `writ-bench policy`: decision latency for a set of 1,000 rules across 200 workloads, on one core.
struct PolicyBenchmark: Sendable {
    /// How many decisions to time.
    let decisions: Int
    /// Workloads in the generated set.
    let workloads: Int

    /// A plan.
    init(decisions: Int = 200_000, workloads: Int = 200) {
        self.decisions = decisions
        self.workloads = workloads
    }

    /// The generated policy text: per workload four permits and one forbid, and fifty rules with wildcard
    /// workload patterns that every request in the trust domain must consider (ten of them for task types
    /// the requests use, so their patterns are matched too).
    func policyText() -> String {
        var text = "rules:\n"
        for index in 0..<workloads {
            let id = "spiffe://bench.example/agents/agent-\(index)"
            for kind in 0..<4 {
                text += """
                      - id: agent-\(index)-permit-\(kind)
                        effect: permit
                        when:
                          workload: { id: "\(id)" }
                          user: { claims: { department: "*" } }
                          task: { type: [task-\(kind), task-any] }
                        resources:
                          - type: kind-\(kind)
                            locations: https://rs-\(kind).bench.example
                            identifiers: ["departments/{user.department}/**", "shared/\(index)/*"]
                            actions: [read, list]
                          - type: search
                            locations: https://search.bench.example
                            actions: query
                        limits: { task_duration: 20m, token_lifetime: 5m, resources: 8 }

                    """
            }
            text += """
                  - id: agent-\(index)-forbid
                    effect: forbid
                    when:
                      workload: { id: "\(id)" }
                    resources:
                      - { type: kind-0, identifiers: "**/secret", actions: read }

                """
        }
        for index in 0..<(1000 - workloads * 5) {
            text += """
                  - id: wildcard-\(index)
                    effect: \(index % 5 == 0 ? "forbid" : "permit")
                    when:
                      workload: { id: "spiffe://bench.example/agents/agent-\(index)*" }
                      task: { type: \(index % 5 == 1 ? "task-\(index % 4)" : "wildcard-\(index)") }
                    resources:
                      - { type: kind-9, locations: https://rs-9.bench.example, actions: read }

                """
        }
        return text
    }

    /// Runs the benchmark and returns the report.
    func run() throws -> String {
        let text = policyText()
        let clock = ContinuousClock()
        let loadStart = clock.now
        let policies = try PolicyLoader.load(sources: [("bench.yaml", text)]).get()
        let loadTime = loadStart.duration(to: clock.now)

        var generator = SystemRandomNumberGenerator()
        let departments = ["hr", "eng", "finance", "legal"]
        var requests: [PolicyRequest] = []
        for _ in 0..<1024 {
            let workload = Int.random(in: 0..<workloads, using: &generator)
            let kind = Int.random(in: 0..<4, using: &generator)
            let department = departments.randomElement(using: &generator)!
            let asked = Int.random(in: 0..<5, using: &generator) == 0 ? "finance" : department
            requests.append(
                PolicyRequest(
                    workload: WorkloadIdentity(
                        id: try SPIFFEID("spiffe://bench.example/agents/agent-\(workload)"),
                        attestation: .jwtSVID
                    ),
                    user: UserClaims(claims: ["sub": .string("user-\(workload)"), "department": .string(department)]),
                    taskType: "task-\(kind)",
                    authorizationDetails: [
                        AuthorizationDetail(
                            type: "kind-\(kind)",
                            actions: ["read"],
                            locations: ["https://rs-\(kind).bench.example"],
                            identifier: "departments/\(asked)/reports/q\(kind)"
                        ),
                        AuthorizationDetail(
                            type: "kind-\(kind)",
                            actions: ["read", "list"],
                            locations: ["https://rs-\(kind).bench.example"],
                            identifier: "shared/\(workload)/handbook"
                        ),
                        AuthorizationDetail(
                            type: "search",
                            actions: ["query"],
                            locations: ["https://search.bench.example"]
                        ),
                    ]
                )
            )
        }
        var permits = 0
        for request in requests.prefix(1000) where policies.evaluate(request).isPermit { permits += 1 }
        var samples: [Int64] = []
        samples.reserveCapacity(decisions)
        for index in 0..<decisions {
            let request = requests[index & 1023]
            let start = clock.now
            let decision = policies.evaluate(request)
            let elapsed = start.duration(to: clock.now)
            withExtendedLifetime(decision) {}
            samples.append(elapsed.components.attoseconds / 1_000_000_000 + elapsed.components.seconds * 1_000_000_000)
        }
        samples.sort()
        func percentile(_ fraction: Double) -> Double {
            Double(samples[min(samples.count - 1, Int(Double(samples.count) * fraction))]) / 1000
        }
        let loadMilliseconds =
            Double(loadTime.components.attoseconds) / 1e15 + Double(loadTime.components.seconds) * 1000
        return """
            policy set: \(policies.rules.count) rules across \(workloads) workloads, loaded from YAML in \(String(format: "%.0f", loadMilliseconds)) ms
            requests: 1,024 distinct (3 authorization details each), \(permits / 10)% permitted
            decisions timed: \(decisions), one core
            p50  \(String(format: "%6.2f", percentile(0.50))) µs
            p90  \(String(format: "%6.2f", percentile(0.90))) µs
            p99  \(String(format: "%6.2f", percentile(0.99))) µs   (target ≤ 20 µs)
            p999 \(String(format: "%6.2f", percentile(0.999))) µs
            max  \(String(format: "%6.2f", Double(samples.last ?? 0) / 1000)) µs
            """
    }
}
