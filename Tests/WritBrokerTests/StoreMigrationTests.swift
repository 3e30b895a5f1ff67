import Foundation
import Testing
import WritPolicy
import WritTestSupport
import WritToken

@testable import WritBroker

private typealias R = StoreRecords

/// Moving a broker's records from its SQLite file to PostgreSQL (`writ store migrate`).
@Suite("Copying a store from SQLite to PostgreSQL")
struct StoreMigrationTests {
    /// A SQLite store with some of everything: a task tree, tokens, a spent proof, revocations of several kinds
    /// (one lifted), keys (one retired), operators (one revoked), and an audit log pruned once.
    static func populated(at path: String) async throws {
        let stores = try BrokerStores.sqlite(path: path)
        let root = try R.task("tsk_root", workload: R.orchestrator, user: "alice")
        let child = try R.task("tsk_child", workload: R.summarizer, parent: root)
        let other = try R.task("tsk_other", workload: R.coder)
        try await R.insert([root, child, other], into: stores)
        let block = try await stores.statusLists.reserve(keyID: "k2", count: 8, size: 64, at: R.now)
        func token(_ id: String, of task: BrokerTask, slot: Int) -> IssuedToken {
            var token = R.token(id, of: task)
            token.status = StatusSlot(list: block.list, index: slot)
            return token
        }
        try await R.record([token("jti_1", of: root, slot: 0), token("jti_2", of: child, slot: 1)], into: stores)
        let proof = UsedProof(keyThumbprint: "thumb", id: "proof-1", expiresAt: R.at(60))
        _ = try await R.record(token("jti_3", of: other, slot: 2), into: stores, proof: proof)
        _ = try await R.close("tsk_root", .complete, at: R.at(10), in: stores)
        let stream = SignalStream(
            id: "ssf_1",
            receiver: "spiffe://example.org/services/documents",
            description: "documents",
            eventsRequested: [SignalService.sessionRevoked],
            delivery: .push,
            endpoint: "https://rs.example/events",
            authorization: "Bearer s3cret",
            status: .paused,
            statusReason: "maintenance",
            cursor: 1,
            createdAt: R.at(11)
        )
        _ = try await stores.signals.insert(stream, limit: 16)
        let alert = MonitoringAlert(
            id: 0,
            at: R.at(12),
            rule: "probing",
            response: .quarantineWorkload,
            workload: R.assistant.description,
            task: "tsk_other",
            taskType: "answer-question",
            window: 60,
            observed: 6,
            threshold: 5,
            codes: ["insufficient_authorization", "revoked"],
            revocation: 4
        )
        _ = try await stores.monitoring.append(
            alert,
            audit: AuditEvent("monitor.alert", actor: "monitor:probing", subject: "x")
        )
        var baseline = UsageBaseline(workload: R.assistant.description, taskType: "answer-question", now: 1_800_000_000)
        baseline.record(
            .init(audience: "https://docs.example.org", resourceType: "document", action: "read", prefix: "hr"),
            allowed: true,
            count: 3,
            at: 1_800_000_001
        )
        try await stores.monitoring.save([baseline])
        _ = try await stores.revocations.revoke(.user("mallory"), actor: "op", at: R.at(20), retention: 600)
        _ = try await stores.revocations.revoke(.token("jti_3"), actor: "op", at: R.at(21), retention: 600)
        let workload = try await stores.revocations.revoke(
            .workload(R.coder),
            actor: "op",
            at: R.at(22),
            retention: 600
        )
        guard case .revoked(let outcome) = workload else {
            Issue.record("the workload revocation made no entry")
            return
        }
        _ = try await stores.revocations.lift(
            outcome.revocations[0].sequence,
            reason: "fixed",
            actor: "op",
            at: R.at(23)
        )
        try await stores.keys.insert(
            SigningKeyRecord(id: "k1", algorithm: "ES256", file: "k1.pem", createdAt: R.now),
            actor: "t",
            at: R.now
        )
        try await stores.keys.insert(
            SigningKeyRecord(id: "k2", algorithm: "ES256", file: "k2.pem", createdAt: R.at(5)),
            actor: "t",
            at: R.at(5)
        )
        _ = try await stores.keys.retire(["k1"], at: R.at(30))
        for (name, role) in [("alice", OperatorRole.admin), ("scraper", .metrics)] {
            let record = OperatorRecord(id: "op_\(name)", name: name, role: role, hash: "h-\(name)", createdAt: R.now)
            try await stores.operators.insert(record, audit: AuditEvent("operator.created", actor: "t", subject: name))
        }
        _ = try await stores.operators.revoke(nameOrID: "scraper", actor: "t", at: R.at(40))
        // The oldest audit entries pruned: the copy must keep the anchor the rest of the chain follows.
        _ = try await stores.audit.prune(before: R.at(1), limit: 3)
    }

    @Test(
        "every record, the feed's numbers and the audit chain with its anchor arrive unchanged, and a broker's stores read them"
    )
    func copiesEverything() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "writ-migrate-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("writ.sqlite").path
        try await Self.populated(at: path)
        let source = try BrokerStores.sqlite(path: path)

        try await TestPostgreSQL.withDatabase { _, name in
            let database = try await TestPostgreSQL.open(name)
            defer { database.close() }
            try await database.load(try StoreDump.sqlite(readingOnly: path))
            let copy = BrokerStores.postgres(database)

            let sourceFeed = try await source.revocations.page(after: 0, limit: 100)
            #expect(try await copy.revocations.page(after: 0, limit: 100) == sourceFeed)
            #expect(try await copy.revocations.snapshot(now: R.at(30)) == source.revocations.snapshot(now: R.at(30)))
            let sourceAudit = try await source.audit.report(against: nil)
            #expect(sourceAudit.problem == nil)
            #expect(try await copy.audit.report(against: nil) == sourceAudit)
            #expect(try await copy.audit.list(after: 0, limit: 100) == source.audit.list(after: 0, limit: 100))
            for id in ["tsk_root", "tsk_child", "tsk_other"] {
                #expect(try await copy.tasks.fetch(id: id) == source.tasks.fetch(id: id))
            }
            #expect(try await copy.tasks.fetchTree(id: "tsk_root") == source.tasks.fetchTree(id: "tsk_root"))
            #expect(try await copy.tokens.fetch(id: "jti_2") == source.tokens.fetch(id: "jti_2"))
            // Revoked statuses arrive set, and the list goes on after the last index the source handed out.
            #expect(try await source.statusLists.revokedIndices(list: "k2.0") == [0, 1, 2])
            #expect(try await copy.statusLists.revokedIndices(list: "k2.0") == [0, 1, 2])
            #expect(try await copy.statusLists.fetch(list: "k2.0") == source.statusLists.fetch(list: "k2.0"))
            #expect(try await copy.signals.fetch(id: "ssf_1") == source.signals.fetch(id: "ssf_1"))
            #expect(try await copy.signals.fetch(id: "ssf_1") != nil)
            let alerts = try await source.monitoring.alerts(limit: 10, workload: nil)
            #expect(alerts.count == 1 && alerts[0].id > 0)
            #expect(try await copy.monitoring.alerts(limit: 10, workload: nil) == alerts)
            #expect(try await copy.monitoring.baselines() == source.monitoring.baselines())
            #expect(try await copy.monitoring.baselines().count == 1)
            #expect(try await copy.statusLists.reserve(keyID: "k2", count: 1, size: 64, at: R.at(50)).indices == 8..<9)
            #expect(try await copy.keys.list() == source.keys.list())
            #expect(try await copy.operators.list() == source.operators.list())
            // The spent proof stays spent, and new entries continue both numberings.
            let replay = UsedProof(keyThumbprint: "thumb", id: "proof-1", expiresAt: R.at(60))
            let fresh = try R.task("tsk_new", workload: R.assistant, at: R.at(50))
            #expect(try await R.insert(fresh, into: copy) == .inserted)
            #expect(try await R.record(R.token("jti_4", of: fresh), into: copy, proof: replay) == .proofReplayed)
            let next = try await copy.revocations.insert(
                .user("eve"),
                revokedAt: R.at(50),
                retainUntil: R.at(99),
                actor: "t"
            )
            #expect(next.sequence == sourceFeed.last + 1)
            let entry = try await copy.audit.append(AuditEvent("after", actor: "t", subject: "s"), at: R.at(50))
            #expect(entry.sequence == sourceAudit.last + 2, "the new task's audit entry, then this one")
            #expect(try await copy.audit.report(against: nil).problem == nil)

            // Into a database that holds records: refused, and nothing is changed.
            await #expect(throws: PostgresStoreError.self) {
                try await database.load(try StoreDump.sqlite(readingOnly: path))
            }
        }
    }
}
