public import Foundation
import Synchronization
public import WritAPI
public import WritPolicy
public import WritToken

extension MonitoringService {
    // MARK: - Reports

    /// Takes a report from a resource server serving `audiences`: refusals are counted against the rules, and
    /// what fires is acted on before the call returns. Returns how many records were taken in.
    public func ingest(
        _ report: UsageReport,
        from server: SPIFFEID,
        audiences: [String]
    ) async throws(BrokerError) -> Int {
        guard audiences.contains(report.audience) else {
            throw BrokerError(
                .forbidden,
                "\(server) does not serve \(report.audience); report usage only for an audience listed for it "
                    + "under resource_servers"
            )
        }
        try await loadBaselines()
        // Every task named is looked up first: a store failure then counts nothing (the resource server sends
        // the report again), rather than half of it twice.
        // Only tasks of records that could count are looked up, at most ``maximumTaskLookups`` of them.
        var known: [String: TaskFacts] = [:]
        let named = Set(report.records.lazy.filter { Self.reportable.contains($0.outcome) }.compactMap(\.task))
        for id in named.sorted().prefix(Self.maximumTaskLookups) {
            if let facts = try await taskFacts(id) { known[id] = facts }
        }
        let served = try await served(known, by: report.audience)
        let issued = try await issuedTokens(report, known: known, served: served)
        // The rules in force are read once for the whole report.
        let rules = context.policies.monitoring
        var firings: [MonitoringFiring] = []
        var accepted = 0
        let second = context.clock.now.numericDate
        for record in report.records {
            // A record naming no task, or a task the broker does not know, is not counted: only the broker's own
            // records say which workload a use belongs to, never the report.
            guard let task = record.task, let facts = known[task], Self.reportable.contains(record.outcome),
                Self.believed(record, task: task, audience: report.audience, served: served, issued: issued)
            else { continue }
            accepted += 1
            let event = UsageEvent(
                workload: facts.workload,
                task: task,
                taskType: facts.type,
                token: record.token.map { Self.cut($0, 128) },
                audience: report.audience,
                action: record.action.map { Self.cut($0, 128) },
                resourceType: record.resourceType.map { Self.cut($0, 128) },
                identifier: record.identifier.map { Self.cut($0, 256) },
                outcome: Self.cut(record.outcome, 64),
                count: record.count,
                second: second
            )
            firings += count(event, rules: rules)
        }
        context.metrics.usageRecords(accepted: accepted, ignored: report.records.count - accepted)
        if report.dropped > 0 { context.metrics.usageDropped(report.dropped) }
        await act(on: firings)
        return accepted
    }

    /// The outcomes a verifier reports: a use allowed, or one of its refusal codes. The broker's own signals
    /// (`subtask`, `task_denied`, ...) are never taken from a report.
    static let reportable: Set<String> = Set([UsageRecord.allowed] + VerificationError.Code.all.map(\.rawValue))
    static let bindingMismatch = VerificationError.Code.bindingMismatch.rawValue
    /// A resource server speaks only of tasks it serves (the task holds a token for its audience), or of a token
    /// of the task it was shown; of a token presented with another binding only when the broker issued that
    /// token to this task for this audience.
    static func believed(
        _ record: UsageRecord,
        task: String,
        audience: String,
        served: Set<String>,
        issued: [RecordKey: String]
    ) -> Bool {
        let tokenAudience = issued[RecordKey(task: task, token: record.token)]
        if record.outcome == bindingMismatch { return tokenAudience == audience }
        return served.contains(task) || tokenAudience != nil
    }

    /// The most tasks looked up per report, the most tasks whose tokens' audiences are looked up, and the most
    /// tokens looked up (those of `binding_mismatch` records first).
    static let maximumTaskLookups = 10_000
    static let maximumAudienceLookups = 1000
    static let maximumTokenLookups = 100

    struct RecordKey: Hashable {
        let task: String
        let token: String?
    }

    /// The tasks `audience` serves: granted a resource at it, or holding a token for it (looked up among the
    /// tokens for a task whose grant does not name it: remembered once seen; at most ``maximumAudienceLookups``
    /// tasks not yet seen are looked up per report).
    func served(_ known: [String: TaskFacts], by audience: String) async throws(BrokerError) -> Set<String> {
        var served: Set<String> = []
        var lookups = 0
        for (task, facts) in known.sorted(by: { $0.key < $1.key }) {
            let key = RecordKey(task: task, token: audience)
            if facts.audiences.contains(audience) || state.withLock({ $0.served.contains(key) }) {
                served.insert(task)
                continue
            }
            guard lookups < Self.maximumAudienceLookups else { continue }
            lookups += 1
            let audiences = try await context.store("look up a task's audiences") {
                try await tokens.audiences(taskID: task)
            }
            guard audiences.contains(audience) else { continue }
            served.insert(task)
            state.withLock { state in
                if state.served.count >= 100_000 { state.served.removeAll(keepingCapacity: true) }
                state.served.insert(key)
            }
        }
        return served
    }

    /// The audience of each token a record names that the broker issued to the record's task: looked up for
    /// `binding_mismatch` records, and for records about tasks the reporter does not serve (at most
    /// ``maximumTokenLookups`` tokens per report).
    func issuedTokens(
        _ report: UsageReport,
        known: [String: TaskFacts],
        served: Set<String>
    ) async throws(BrokerError) -> [RecordKey: String] {
        // The tokens of binding_mismatch records first, then those of records about tasks not served.
        var keys: [RecordKey] = []
        var seen: Set<RecordKey> = []
        for mismatch in [true, false] {
            for record in report.records where (record.outcome == Self.bindingMismatch) == mismatch {
                guard keys.count < Self.maximumTokenLookups else { break }
                guard let task = record.task, known[task] != nil, let token = record.token, token.utf8.count <= 128,
                    mismatch || !served.contains(task)
                else { continue }
                let key = RecordKey(task: task, token: token)
                if seen.insert(key).inserted { keys.append(key) }
            }
        }
        var found: [RecordKey: String] = [:]
        for key in keys {
            guard let id = key.token,
                let token = try await context.store("look up a token", { try await tokens.fetch(id: id) }),
                token.taskID == key.task
            else { continue }
            found[key] = token.audience
        }
        return found
    }

    /// A text cut to `length` bytes at most (on a character boundary).
    static func cut(_ text: String, _ length: Int) -> String {
        guard text.utf8.count > length else { return text }
        var cut = ""
        for character in text {
            guard cut.utf8.count + character.utf8.count <= length else { break }
            cut.append(character)
        }
        return cut
    }

    /// A task's workload and type from the broker's records (remembered, and so is a task it does not know).
    func taskFacts(_ id: String) async throws(BrokerError) -> TaskFacts? {
        if let known = state.withLock({ $0.tasks[id] }) { return known ?? nil }
        let task = id.utf8.count <= 128 ? try await tasks.fetch(id: id) : nil
        let facts = task.map { task in
            TaskFacts(
                workload: task.workload,
                type: task.type,
                audiences: Set(task.grant.authorizationDetails.flatMap(\.locations))
            )
        }
        state.withLock { state in
            if state.tasks.count >= 50_000 { state.tasks.removeAll(keepingCapacity: true) }
            state.tasks[id] = .some(facts)
        }
        return facts
    }
}
