import Foundation
import Testing
import WritBroker
import WritPolicy
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test(
        "alerts are kept with their audit entry, listed newest first (by workload too) or after a number, and pruned by age",
        arguments: implementations
    )
    func monitoringAlerts(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            func alert(_ rule: String, _ workload: SPIFFEID, at seconds: TimeInterval, task: String?) -> MonitoringAlert
            {
                MonitoringAlert(
                    id: 0,
                    at: R.at(seconds),
                    rule: rule,
                    response: task == nil ? .quarantineWorkload : .revokeTask,
                    workload: workload.description,
                    task: task,
                    taskType: task == nil ? nil : "answer-question",
                    window: 60,
                    observed: 6,
                    threshold: 5,
                    codes: ["insufficient_authorization", "revoked"],
                    revocation: task == nil ? 9 : nil
                )
            }
            #expect(try await stores.monitoring.highestAlertNumber() == 0)
            var stored: [MonitoringAlert] = []
            for (index, item) in [("a", R.assistant, "tsk_1"), ("b", R.coder, nil), ("c", R.assistant, nil)]
                .enumerated()
            {
                let event = AuditEvent("monitor.alert", actor: "monitor:\(item.0)", subject: item.1.description)
                stored.append(
                    try await stores.monitoring.append(
                        alert(item.0, item.1, at: Double(index), task: item.2),
                        audit: event
                    )
                )
            }
            #expect(stored.map(\.id) == stored.map(\.id).sorted() && Set(stored.map(\.id)).count == 3)
            #expect(try await stores.monitoring.alerts(limit: 10, workload: nil) == stored.reversed())
            #expect(try await stores.monitoring.alerts(limit: 1, workload: nil) == [stored[2]])
            #expect(
                try await stores.monitoring.alerts(limit: 10, workload: R.assistant.description) == [
                    stored[2], stored[0],
                ]
            )
            // The admin event stream reads oldest first, after a number.
            #expect(try await stores.monitoring.alerts(after: 0, limit: 10) == stored)
            #expect(try await stores.monitoring.alerts(after: stored[0].id, limit: 10) == [stored[1], stored[2]])
            #expect(try await stores.monitoring.alerts(after: stored[0].id, limit: 1) == [stored[1]])
            #expect(try await stores.monitoring.alerts(after: stored[2].id, limit: 10).isEmpty)
            #expect(try await stores.monitoring.highestAlertNumber() == stored[2].id)
            let audit = try await stores.audit.listLatest(3)
            #expect(audit.map(\.event) == ["monitor.alert", "monitor.alert", "monitor.alert"])
            #expect(try await stores.monitoring.prune(before: R.at(1)) == 1)
            #expect(try await stores.monitoring.alerts(limit: 10, workload: nil).map(\.rule) == ["c", "b"])
            // Pruning every alert keeps the numbers given: a resume point stays valid.
            #expect(try await stores.monitoring.prune(before: R.at(10)) == 2)
            #expect(try await stores.monitoring.highestAlertNumber() == stored[2].id)
        }
    }
}

extension StoreConformanceTests {
    @Test(
        "usage baselines are saved whole, replaced by workload and task type, and read back",
        arguments: implementations
    )
    func usageBaselines(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            var first = UsageBaseline(
                workload: R.assistant.description,
                taskType: "answer-question",
                now: 1_800_000_000
            )
            first.tasks = 3
            first.record(
                .init(
                    audience: "https://docs.example.org",
                    resourceType: "document",
                    action: "read",
                    prefix: "hr/handbook"
                ),
                allowed: true,
                count: 5,
                at: 1_800_000_001
            )
            first.record(
                .init(
                    audience: "https://docs.example.org",
                    resourceType: "document",
                    action: "read",
                    prefix: "finance"
                ),
                allowed: false,
                count: 2,
                at: 1_800_000_002
            )
            first.finish(requests: 7, refusals: 2, tokens: 1, at: 1_800_000_003)
            let second = UsageBaseline(workload: R.coder.description, taskType: "implement-change", now: 1_800_000_000)
            try await stores.monitoring.save([first, second])
            #expect(try await stores.monitoring.baselines() == [second, first].sorted { $0.workload < $1.workload })
            first.tasks = 4
            try await stores.monitoring.save([first])
            #expect(try await stores.monitoring.baselines().first { $0.workload == first.workload } == first)
            #expect(try await stores.monitoring.baselines().count == 2)
        }
    }
}
