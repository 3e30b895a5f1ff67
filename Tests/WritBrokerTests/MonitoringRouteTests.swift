import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WritAPI
import WritBroker
import WritPolicy
import WritTestSupport
import WritToken
import WritVerifier

/// Usage reports from resource servers, the rules of the example policies, alerts, quarantine and release.
@Suite("Monitoring: usage reports, alerts and quarantine")
struct MonitoringRouteTests {
    static let leave = "departments/hr/handbook/leave"

    /// Opens a retrieval task for alice in HR, with a token for the documents service (so the service
    /// serves it); its id.
    static func openTask(_ harness: BrokerHarness, _ client: any TestClientProtocol) async throws -> String {
        let assistant = try harness.workload(BrokerHarness.assistant)
        let alice = try harness.user("alice", department: "hr")
        let body = """
            {"type":"answer-question","user_assertion":"\(alice)","authorization_details":[{"type":"document",\
            "locations":["https://docs.example.org"],"identifier":"\(leave)","actions":["read"]}]}
            """
        let created = try await client.json(.post, "/v1/tasks", bearer: assistant, body: body)
        let task = try #require(created.body["id"]?.string, "\(created)")
        _ = try await tokenID(harness, client, task: task, actor: assistant, audience: BrokerHarness.documentsAudience)
        return task
    }

    /// Issues a token for a task; its `jti`.
    static func tokenID(
        _ harness: BrokerHarness,
        _ client: any TestClientProtocol,
        task: String,
        actor: String,
        audience: String
    ) async throws -> String {
        let issued = try await client.form(
            "/v1/token",
            Bodies.exchange(task: task, actor: actor, audience: audience),
            headers: [TokenRouteTests.dpop: try harness.proof()]
        )
        let token = try #require(issued.body["access_token"]?.string, "\(issued.body)")
        let payload = try #require(
            token.split(separator: ".").dropFirst().first.flatMap { Base64URL.decode(String($0)) }
        )
        return try #require(try StrictJSON().parse(bytes: payload).objectValue?["jti"]?.stringValue)
    }

    /// A report of `count` refusals of `code` (and one allowed read) for a task, as the documents service.
    static func report(
        task: String,
        refusals count: Int,
        code: String = "insufficient_authorization",
        token: String = "tok_1"
    ) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return UsageReport(
            audience: BrokerHarness.documentsAudience,
            records: [
                UsageRecord(
                    task: task,
                    token: token,
                    workload: BrokerHarness.assistant,
                    action: "read",
                    resourceType: "document",
                    identifier: leave,
                    outcome: UsageRecord.allowed,
                    count: 1,
                    first: now,
                    last: now
                ),
                UsageRecord(
                    task: task,
                    token: token,
                    workload: BrokerHarness.assistant,
                    action: "read",
                    resourceType: "document",
                    identifier: "departments/finance/payroll/2026-11",
                    outcome: code,
                    count: count,
                    first: now,
                    last: now
                ),
            ]
        ).bytes.string
    }

    /// The alerts, once there are any (a broker signal is acted on in a task of its own), within a second.
    static func alerts(_ harness: BrokerHarness, _ client: any TestClientProtocol) async throws -> [MonitoringAlertBody]
    {
        for _ in 0..<50 {
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            let alerts = try MonitorResponse(json: monitor.body, mode: .response).alerts
            if !alerts.isEmpty { return alerts }
            try await Task.sleep(for: .milliseconds(20))
        }
        return []
    }

    @Test("only a registered resource server reports, and only for its own audience")
    func access() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let body = Self.report(task: task, refusals: 1)
            #expect(try await client.json(.post, "/v1/usage", body: body).status == 401)
            let assistant = try harness.workload(BrokerHarness.assistant)
            #expect(try await client.json(.post, "/v1/usage", bearer: assistant, body: body).status == 403)
            let service = try harness.workload(BrokerHarness.documentsService)
            let other = body.replacingOccurrences(of: BrokerHarness.documentsAudience, with: "https://git.example.org")
            let refused = try await client.json(.post, "/v1/usage", bearer: service, body: other)
            #expect(refused.status == 403 && refused.body["error"]?.string == "forbidden")
            let accepted = try await client.json(.post, "/v1/usage", bearer: service, body: body)
            #expect(accepted.status == 200 && accepted.body["accepted"] == .integer(2))
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: assistant)
            #expect(monitor.status == 403)
        }
    }

    @Test("a record naming a task the broker does not know is ignored; a malformed report is refused by name")
    func unknownTasks() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let service = try harness.workload(BrokerHarness.documentsService)
            let ignored = try await client.json(
                .post,
                "/v1/usage",
                bearer: service,
                body: Self.report(task: "tsk_nobody_made", refusals: 50)
            )
            #expect(ignored.status == 200 && ignored.body["accepted"] == .integer(0))
            // A refusal that names no task is not counted: the report's word alone never names a workload.
            let now = Int64(Date().timeIntervalSince1970)
            let untasked = UsageReport(
                audience: BrokerHarness.documentsAudience,
                records: [
                    UsageRecord(
                        workload: BrokerHarness.assistant,
                        outcome: "insufficient_authorization",
                        count: 500,
                        first: now,
                        last: now
                    )
                ]
            )
            let refusedUntasked = try await client.json(
                .post,
                "/v1/usage",
                bearer: service,
                body: untasked.bytes.string
            )
            #expect(refusedUntasked.status == 200 && refusedUntasked.body["accepted"] == .integer(0))
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            #expect(monitor.body["alerts"] == .array([]) && monitor.body["quarantines"] == .array([]))
            let malformed = try await client.json(
                .post,
                "/v1/usage",
                bearer: service,
                body:
                    #"{"audience":"https://docs.example.org","records":[{"outcome":"allowed","count":0,"first":1,"last":1}]}"#
            )
            #expect(malformed.status == 400 && malformed.body["error"]?.string == "invalid_request")
        }
    }

    @Test("refusals up to the threshold raise nothing; one more quarantines the workload, refused until released")
    func quarantine() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let service = try harness.workload(BrokerHarness.documentsService)
            let five = try await client.json(
                .post,
                "/v1/usage",
                bearer: service,
                body: Self.report(task: task, refusals: 5)
            )
            #expect(five.status == 200)
            let quiet = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            #expect(quiet.body["alerts"] == .array([]))
            // The sixth refusal within the minute crosses the example policy's threshold.
            _ = try await client.json(.post, "/v1/usage", bearer: service, body: Self.report(task: task, refusals: 1))
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            let view = try MonitorResponse(json: monitor.body, mode: .response)
            let alert = try #require(view.alerts.first)
            #expect(alert.rule == "retrieval-probing-outside-grant" && alert.response == "quarantine_workload")
            #expect(alert.observed == 6 && alert.threshold == 5 && alert.window == 60 && alert.task == task)
            #expect(alert.taskType == "answer-question" && alert.workload == BrokerHarness.assistant)
            #expect(alert.explanation.contains("6 refusals") && alert.revocation != nil)
            #expect(view.quarantines.map(\.workload) == [BrokerHarness.assistant])

            // The task was aborted with the workload, and new tasks are refused while it stands.
            let tree = try await client.json(.get, "/v1/admin/tasks/\(task)", bearer: harness.operatorToken)
            #expect(tree.body["tasks"]?.arrayValue?.first?["state"]?.string == "aborted")
            func newTask() async throws -> (status: Int, body: JSONValue, headers: HTTPFields) {
                let assistant = try harness.workload(BrokerHarness.assistant)
                let alice = try harness.user("alice", department: "hr")
                let body = """
                    {"type":"answer-question","user_assertion":"\(alice)","authorization_details":[{"type":"document",\
                    "locations":["https://docs.example.org"],"identifier":"\(Self.leave)","actions":["read"]}]}
                    """
                return try await client.json(.post, "/v1/tasks", bearer: assistant, body: body)
            }
            let refused = try await newTask()
            #expect(refused.status == 403 && refused.body["error"]?.string == "revoked")
            let said = refused.body["error_description"]?.string ?? ""
            #expect(said.contains("quarantined by feed entry") && said.contains("writ quarantine release"), "\(said)")

            // Still in quarantine long after a workload revocation would have lapsed.
            harness.clock.advance(by: 7200)
            #expect(try await newTask().body["error"]?.string == "revoked")

            let noReason = try await client.json(
                .post,
                "/v1/admin/quarantines/release",
                bearer: harness.operatorToken,
                body: #"{"workload":"\#(BrokerHarness.assistant)","reason":" "}"#
            )
            #expect(noReason.status == 400)
            let released = try await client.json(
                .post,
                "/v1/admin/quarantines/release",
                bearer: harness.operatorToken,
                body: #"{"workload":"\#(BrokerHarness.assistant)","reason":"the injected document is removed"}"#
            )
            #expect(released.status == 200)
            #expect(try QuarantineReleaseResponse(json: released.body, mode: .response).lifts.count == 1)
            harness.clock.advance(by: 1)
            #expect(try await newTask().status == 201)
            let list = try await client.json(.get, "/v1/admin/quarantines", bearer: harness.operatorToken)
            #expect(list.body["quarantines"] == .array([]))
            let twice = try await client.json(
                .post,
                "/v1/admin/quarantines/release",
                bearer: harness.operatorToken,
                body: #"{"workload":"\#(BrokerHarness.assistant)","reason":"again"}"#
            )
            #expect(twice.status == 404)
            let audit = try await client.json(.get, "/v1/admin/audit?last=20", bearer: harness.operatorToken)
            let events = audit.body["entries"]?.arrayValue?.compactMap { $0["event"]?.string } ?? []
            #expect(events.contains("monitor.alert"))
        }
    }

    @Test("refusals of codes a rule does not count, or of other workloads, raise nothing")
    func otherCodes() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let service = try harness.workload(BrokerHarness.documentsService)
            let body = Self.report(task: task, refusals: 40, code: "proof_replayed")
            #expect(try await client.json(.post, "/v1/usage", bearer: service, body: body).status == 200)
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            #expect(monitor.body["alerts"] == .array([]))
        }
    }

    @Test("DPoP proofs replayed at the token endpoint are the broker's own signal: the fourth raises an alert")
    func replayedProofs() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let proof = try harness.proof()
            let fields = Bodies.exchange(task: task, actor: coder, audience: TokenRouteTests.git)
            let first = try await client.form("/v1/token", fields, headers: [TokenRouteTests.dpop: proof])
            #expect(first.status == 200)
            for _ in 0..<4 {
                let replayed = try await client.form("/v1/token", fields, headers: [TokenRouteTests.dpop: proof])
                #expect(replayed.status == 400)
            }
            let alerts = try await Self.alerts(harness, client)
            let alert = try #require(alerts.first)
            #expect(alert.rule == "coding-agent-replays-proofs" && alert.observed == 4)
            #expect(alert.codes == ["broker_proof_replayed"] && alert.workload == BrokerHarness.coder)
        }
    }

    @Test("tasks refused by policy are the broker's own signal: more than ten raise an alert, nothing more")
    func brokerSignals() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let assistant = try harness.workload(BrokerHarness.assistant)
            let alice = try harness.user("alice", department: "hr")
            let outside = """
                {"type":"answer-question","user_assertion":"\(alice)","authorization_details":[{"type":"document",\
                "locations":["https://docs.example.org"],"identifier":"departments/finance/payroll","actions":["read"]}]}
                """
            for _ in 0..<11 {
                #expect(try await client.json(.post, "/v1/tasks", bearer: assistant, body: outside).status == 403)
            }
            let alerts = try await Self.alerts(harness, client)
            let alert = try #require(alerts.first)
            #expect(alert.rule == "retrieval-tasks-denied" && alert.response == "alert" && alert.observed == 11)
            #expect(alert.revocation == nil && alert.task == nil)
            let quarantines = try await client.json(.get, "/v1/admin/quarantines", bearer: harness.operatorToken)
            #expect(quarantines.body["quarantines"] == .array([]))
        }
    }

    @Test(
        "a workload's own signed assertions refused for their times or audience are a broker signal; forged ones are not"
    )
    func refusedAssertions() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let coder = try SPIFFEID(BrokerHarness.coder)
            let good = try harness.workload(BrokerHarness.coder).split(separator: ".")
            let elsewhere = try harness.workload(BrokerHarness.coder, audience: "https://other.example.org")
            let another = try harness.workload(BrokerHarness.coder, audience: "https://another.example.org")
            let expired = try DevelopmentIdentity.workloadAssertion(
                for: coder,
                audience: BrokerHarness.audience,
                key: harness.workloadKey,
                now: harness.clock.now.addingTimeInterval(-7200)
            )
            // The payload of one, the signature of another: it names the agent, but nothing vouches for it.
            let forged = "\(good[0]).\(elsewhere.split(separator: ".")[1]).\(good[2])"
            // Forged ones, and one signed assertion replayed: none, then one, counted.
            for assertion in [forged, forged, forged, elsewhere, elsewhere, elsewhere, elsewhere] {
                #expect(try await client.json(.post, "/v1/tasks", bearer: assertion, body: "{}").status == 401)
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken).body["alerts"]
                    == .array([])
            )
            for assertion in [expired, another] {
                #expect(try await client.json(.post, "/v1/tasks", bearer: assertion, body: "{}").status == 401)
            }
            let alert = try #require(try await Self.alerts(harness, client).first)
            #expect(alert.rule == "coding-agent-assertions-refused" && alert.observed == 3)
            #expect(alert.codes == ["broker_assertion_refused"] && alert.workload == BrokerHarness.coder)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.alerts(harness, client).count == 1, "one alert, nothing counted twice")
        }
    }

    @Test("a token presented with another key, as a verifier reports it, revokes its task")
    func twoBindings() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let service = try harness.workload(BrokerHarness.documentsService)
            let assistant = try harness.workload(BrokerHarness.assistant)
            let jti = try await Self.tokenID(
                harness,
                client,
                task: task,
                actor: assistant,
                audience: BrokerHarness.documentsAudience
            )
            // A token the broker never issued to this task is not believed: nothing fires.
            for fabricated in ["tok_1", "jti_of_another_task"] {
                let body = Self.report(task: task, refusals: 1, code: "binding_mismatch", token: fabricated)
                let taken = try await client.json(.post, "/v1/usage", bearer: service, body: body)
                #expect(taken.body["accepted"]?.integerValue == 1, "only the allowed read is counted: \(taken.body)")
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(
                try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken).body["alerts"]
                    == .array([])
            )
            let body = Self.report(task: task, refusals: 1, code: "binding_mismatch", token: jti)
            #expect(try await client.json(.post, "/v1/usage", bearer: service, body: body).status == 200)
            let alert = try #require(try await Self.alerts(harness, client).first)
            #expect(alert.rule == "retrieval-token-elsewhere" && alert.kind == "two_bindings" && alert.task == task)
            #expect(alert.response == "revoke_task" && alert.revocation != nil)
            let tree = try await client.json(.get, "/v1/admin/tasks/\(task)", bearer: harness.operatorToken)
            #expect(tree.body["tasks"]?.arrayValue?.first?["state"]?.string == "aborted", "\(tree.body)")
        }
    }

    @Test(
        "the admin event stream sends alerts after Last-Event-ID, then each new one at the next tick, then heartbeats",
        .timeLimit(.minutes(1))
    )
    func adminEvents() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let broker = harness.broker
        let text = try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let service = try harness.workload(BrokerHarness.documentsService)
            let body = Self.report(task: task, refusals: 6)
            #expect(try await client.json(.post, "/v1/usage", bearer: service, body: body).status == 200)
            let first = try #require(try await Self.alerts(harness, client).first)
            let refused = try await client.execute(
                uri: "/v1/admin/events",
                method: .get,
                headers: [.authorization: "Bearer \(try harness.workload(BrokerHarness.assistant))"]
            )
            #expect(refused.status == .unauthorized || refused.status == .forbidden)
            let badResume = try await client.execute(
                uri: "/v1/admin/events?after=x",
                method: .get,
                headers: [.authorization: "Bearer \(harness.operatorToken)"]
            )
            #expect(badResume.status == .badRequest)
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    let response = try await client.execute(
                        uri: "/v1/admin/events",
                        method: .get,
                        headers: [
                            HTTPField.Name("Last-Event-ID")!: "\(first.id - 1)",
                            .authorization: "Bearer \(harness.operatorToken)",
                        ]
                    )
                    #expect(response.headers[.contentType] == "text/event-stream")
                    return String(buffer: response.body)
                }
                group.addTask {
                    try await harness.untilSubscribed()
                    try await Task.sleep(for: .milliseconds(300))
                    // An alert another broker sharing the store raised, seen at this broker's next tick.
                    let other = MonitoringAlert(
                        id: 0,
                        at: Date(),
                        rule: "elsewhere",
                        response: .alert,
                        workload: BrokerHarness.coder,
                        task: nil,
                        taskType: nil,
                        window: 60,
                        observed: 4,
                        threshold: 3,
                        codes: ["broker_proof_replayed"],
                        revocation: nil
                    )
                    let event = AuditEvent("monitor.alert", actor: "monitor:elsewhere", subject: BrokerHarness.coder)
                    _ = try await broker.stores.monitoring.append(other, audit: event)
                    await broker.feed.publish(logger: broker.logger)
                    try await Task.sleep(for: .milliseconds(300))
                    await broker.feed.publish(logger: broker.logger)
                    try await Task.sleep(for: .milliseconds(300))
                    broker.feed.finishAll()
                    return nil
                }
                var result = ""
                for try await value in group { if let value { result = value } }
                return result
            }
        }
        let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let alerts = events.filter { $0.contains("event: alert") }
        #expect(alerts.count == 2, "\(text)")
        #expect(alerts.first?.contains("\"rule\":\"retrieval-probing-outside-grant\"") == true)
        #expect(alerts.last?.contains("\"rule\":\"elsewhere\"") == true)
        let data = try #require(alerts.last?.split(separator: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6))
        let decoded = try MonitoringAlertBody(responseBody: Array(data.utf8))
        #expect(decoded.rule == "elsewhere" && decoded.codes == ["broker_proof_replayed"])
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
        #expect(ids.count == 2 && ids[1] > ids[0])
        #expect(text.contains("event: heartbeat\ndata: {\"last\":\(ids[1]),"), "\(text)")
    }

    @Test(
        "a workload quarantined twice lists once and one release lifts both; an operator's revocation hides nothing and stands"
    )
    func quarantinedTwice() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let assistant = try SPIFFEID(BrokerHarness.assistant)
            let revocations = harness.broker.revocations
            // Two brokers' rules firing at once each write an entry; no alert is kept for either.
            let first = try await revocations.quarantine(assistant, by: "monitor:a").revocations[0].sequence
            let second = try await revocations.quarantine(assistant, by: "monitor:b").revocations[0].sequence
            let operatorEntry = try await revocations.revoke(.workload(assistant), by: "operator").revocations[0]
            let listed = try await client.json(.get, "/v1/admin/quarantines", bearer: harness.operatorToken)
            let quarantines = try QuarantineListResponse(json: listed.body, mode: .response).quarantines
            #expect(quarantines.map(\.workload) == [BrokerHarness.assistant], "\(listed.body)")
            #expect(quarantines.first?.revocation == Int64(second) && quarantines.first?.alert == nil)
            let released = try await client.json(
                .post,
                "/v1/admin/quarantines/release",
                bearer: harness.operatorToken,
                body: #"{"workload":"\#(BrokerHarness.assistant)","reason":"looked at"}"#
            )
            #expect(released.status == 200, "\(released.body)")
            let lifted = try QuarantineReleaseResponse(json: released.body, mode: .response).lifts
            #expect(Set(lifted.map(\.lifted.sequence)) == [first, second], "\(released.body)")
            let after = try await client.json(.get, "/v1/admin/quarantines", bearer: harness.operatorToken)
            #expect(after.body["quarantines"] == .array([]))
            let again = try await client.json(
                .post,
                "/v1/admin/quarantines/release",
                bearer: harness.operatorToken,
                body: #"{"workload":"\#(BrokerHarness.assistant)","reason":"twice"}"#
            )
            #expect(again.status == 404)
            // The operator's own revocation was not lifted.
            let standing = harness.broker.feed.view.standingWorkloadEntries(of: assistant, now: harness.clock.now)
            #expect(standing.map(\.sequence) == [operatorEntry.sequence])
        }
    }

    @Test("a report cannot speak for the broker: sub-tasks and broker signals in it are not counted")
    func brokerOutcomesInReports() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let task = try await Self.openTask(harness, client)
            let service = try harness.workload(BrokerHarness.documentsService)
            for outcome in ["subtask", "task_denied", "broker_proof_replayed", "broker_assertion_refused", "made_up"] {
                let body = Self.report(task: task, refusals: 500, code: outcome)
                let taken = try await client.json(.post, "/v1/usage", bearer: service, body: body)
                #expect(taken.body["accepted"]?.integerValue == 1, "\(outcome): \(taken.body)")
            }
            try await Task.sleep(for: .milliseconds(300))
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            #expect(monitor.body["alerts"] == .array([]))
            let usage = try await client.json(.get, "/v1/admin/usage", bearer: harness.operatorToken)
            let baselines = try UsageResponse(json: usage.body, mode: .response).baselines
            #expect(baselines.first?.liveRequests == 5 && baselines.first?.liveRefusals == 0, "\(usage.body)")
        }
    }

    @Test(
        "the admin event stream refuses a resume point past the newest alert, and ends for an operator revoked meanwhile",
        .timeLimit(.minutes(1))
    )
    func adminEventsChecks() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let broker = harness.broker
        let second = try await broker.operators.create(name: "second", role: .admin, now: harness.clock.now)
        try await harness.withClient { client async throws in
            let ahead = try await client.execute(
                uri: "/v1/admin/events?after=5",
                method: .get,
                headers: [.authorization: "Bearer \(harness.operatorToken)"]
            )
            #expect(ahead.status == .badRequest && String(buffer: ahead.body).contains("the newest is 0"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let response = try await client.execute(
                        uri: "/v1/admin/events",
                        method: .get,
                        headers: [.authorization: "Bearer \(second)"]
                    )
                    #expect(response.status == .ok && String(buffer: response.body).contains("event: heartbeat"))
                }
                group.addTask {
                    try await harness.untilSubscribed()
                    _ = try await broker.operators.revoke(name: "second", by: "test", now: harness.clock.now)
                    // Within ten ticks the stream sees the revocation and ends by itself.
                    for _ in 0..<12 {
                        await broker.feed.publish(logger: broker.logger)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let ended = ContinuousClock.now + .seconds(5)
                    while broker.feed.subscriberCount > 0, ContinuousClock.now < ended {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(broker.feed.subscriberCount == 0, "the revoked operator's stream still runs")
                    broker.feed.finishAll()
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("a resource server speaks only of tasks it serves, or of a token of the task it was shown")
    func servedTasksOnly() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            // A change task that only ever asked for the git service.
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let jti = try await Self.tokenID(harness, client, task: task, actor: coder, audience: TokenRouteTests.git)
            let service = try harness.workload(BrokerHarness.documentsService)
            let invented = Self.report(task: task, refusals: 40, token: "tok_invented")
            let taken = try await client.json(.post, "/v1/usage", bearer: service, body: invented)
            #expect(taken.body["accepted"]?.integerValue == 0, "\(taken.body)")
            // The git token presented at the documents service: the service saw it, so its record counts.
            let shown = Self.report(task: task, refusals: 1, code: "wrong_audience", token: jti)
            let counted = try await client.json(.post, "/v1/usage", bearer: service, body: shown)
            #expect(counted.body["accepted"]?.integerValue == 2, "\(counted.body)")
            try await Task.sleep(for: .milliseconds(200))
            let monitor = try await client.json(.get, "/v1/admin/monitor", bearer: harness.operatorToken)
            #expect(monitor.body["alerts"] == .array([]), "nothing fires for a task the service does not serve")
            let notSPIFFE = try await client.json(
                .get,
                "/v1/admin/monitor?workload=hello",
                bearer: harness.operatorToken
            )
            #expect(notSPIFFE.status == 400)
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate var string: String { String(decoding: self, as: UTF8.self) }
}
