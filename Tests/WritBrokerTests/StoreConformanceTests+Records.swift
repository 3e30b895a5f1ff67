import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test("keys are recorded, audited and listed oldest first", arguments: implementations)
    func recordKeys(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            #expect(try await stores.keys.list().isEmpty)
            #expect(try await stores.keys.listUnretired().isEmpty)
            let first = SigningKeyRecord(id: "k1", algorithm: "ES256", file: "k1.pem", createdAt: R.at(-100))
            let second = SigningKeyRecord(
                id: "k2",
                algorithm: "EdDSA",
                file: "k2.pem",
                createdAt: R.at(-50),
                activatesAt: R.at(10)
            )
            try await stores.keys.insert(first, actor: "broker", at: R.at(-100))
            try await stores.keys.insert(second, actor: "operator:ada", at: R.at(-50))
            #expect(try await stores.keys.list() == [first, second])
            #expect(try await stores.keys.listUnretired() == [first, second])
            let audited = try await R.auditEvents(stores)
            #expect(audited.count == 2 && audited.map(\.subject) == ["k1", "k2"])
            #expect(audited.map(\.actor) == ["broker", "operator:ada"])
        }
    }

    @Test(
        "a rotation replaces the signing key, refused while one is pending unless immediate",
        arguments: implementations
    )
    func rotateKeys(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let third = SigningKeyRecord(id: "k3", algorithm: "ES256", file: "k3.pem", createdAt: R.at(10))
            let none = try await stores.keys.rotate(
                to: third,
                immediately: false,
                retiresAt: R.at(600),
                keyEntryRetention: 300,
                actor: "t",
                at: R.now
            )
            #expect(none == .noSigningKey)
            #expect(try await stores.keys.list().isEmpty)
            #expect(try await R.auditEvents(stores).isEmpty)
            let first = SigningKeyRecord(id: "k1", algorithm: "ES256", file: "k1.pem", createdAt: R.at(-100))
            try await stores.keys.insert(first, actor: "broker", at: R.at(-100))
            let inserted = try await R.auditEvents(stores).count
            let second = SigningKeyRecord(
                id: "k2",
                algorithm: "ES256",
                file: "k2.pem",
                createdAt: R.now,
                activatesAt: R.at(60)
            )
            let planned = try await stores.keys.rotate(
                to: second,
                immediately: false,
                retiresAt: R.at(600),
                keyEntryRetention: 300,
                actor: "t",
                at: R.now
            )
            #expect(planned == .rotated(previous: "k1", keyEntries: []))
            var expected = [first, second]
            expected[0].retiresAt = R.at(600)
            #expect(try await stores.keys.list() == expected)
            #expect(try await R.feed(stores).isEmpty)
            let rotated = try await R.auditEvents(stores).count
            #expect(rotated > inserted)
            // k2 is published but does not sign yet: a planned rotation waits for it.
            let waiting = try await stores.keys.rotate(
                to: third,
                immediately: false,
                retiresAt: R.at(700),
                keyEntryRetention: 300,
                actor: "t",
                at: R.at(10)
            )
            #expect(waiting == .pending(expected[1]))
            #expect(try await stores.keys.list() == expected)
            #expect(try await R.auditEvents(stores).count == rotated)
            // A compromise does not wait: every other key retires now, each with a key entry in the feed.
            let immediate = try await stores.keys.rotate(
                to: third,
                immediately: true,
                retiresAt: R.at(10),
                keyEntryRetention: 300,
                actor: "operator:ada",
                at: R.at(10)
            )
            guard case .rotated(let previous, let entries) = immediate else { throw R.Refused(what: "\(immediate)") }
            #expect(previous == "k1")
            #expect(Set(entries.map(\.subject)) == [.key("k1"), .key("k2")] && entries.count == 2)
            for entry in entries {
                #expect(entry.revokedAt == R.at(10) && entry.retainUntil == R.at(310))
            }
            #expect(try await R.feed(stores) == entries)
            expected[0].retiresAt = R.at(10)
            expected[1].retiresAt = R.at(10)
            #expect(try await stores.keys.list() == expected + [third])
            #expect(try await R.auditEvents(stores).count > rotated)
            // Immediately, even while a key is pending: k4 waits, yet the next compromise rotation goes ahead.
            #expect(try await stores.keys.retire(["k1", "k2"], at: R.at(15)) == [third])
            let fourth = SigningKeyRecord(
                id: "k4",
                algorithm: "ES256",
                file: "k4.pem",
                createdAt: R.at(20),
                activatesAt: R.at(90)
            )
            #expect(
                try await stores.keys.rotate(
                    to: fourth,
                    immediately: false,
                    retiresAt: R.at(700),
                    keyEntryRetention: 300,
                    actor: "t",
                    at: R.at(20)
                ) == .rotated(previous: "k3", keyEntries: [])
            )
            let fifth = SigningKeyRecord(id: "k5", algorithm: "ES256", file: "k5.pem", createdAt: R.at(30))
            guard
                case .rotated("k3", let more) = try await stores.keys.rotate(
                    to: fifth,
                    immediately: true,
                    retiresAt: R.at(30),
                    keyEntryRetention: 300,
                    actor: "t",
                    at: R.at(30)
                )
            else { throw R.Refused(what: "the second immediate rotation") }
            #expect(Set(more.map(\.subject)) == [.key("k3"), .key("k4")] && more.count == 2)
        }
    }

    @Test("retiring keys marks them retired, audited, and returns the keys still unretired", arguments: implementations)
    func retireKeys(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let keys = (1...3).map {
                SigningKeyRecord(id: "k\($0)", algorithm: "ES256", file: "k\($0).pem", createdAt: R.at(Double($0)))
            }
            for key in keys { try await stores.keys.insert(key, actor: "broker", at: key.createdAt) }
            #expect(try await stores.keys.retire(["k1", "k2"], at: R.at(100)) == [keys[2]])
            #expect(try await stores.keys.listUnretired() == [keys[2]])
            let listed = try await stores.keys.list()
            #expect(listed.map(\.retiredAt) == [R.at(100), R.at(100), nil])
            let audited = try await R.auditEvents(stores).dropFirst(3)
            #expect(audited.map(\.subject) == ["k1", "k2"])
            // Retired is for good: retiring again changes nothing.
            #expect(try await stores.keys.retire(["k1", "unknown"], at: R.at(200)) == [keys[2]])
            #expect(try await stores.keys.list() == listed)
        }
    }

    @Test("the audit log appends chained entries and reads them back", arguments: implementations)
    func auditLog(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            #expect(try await stores.audit.report(against: nil) == AuditLog.Report(problem: nil, entries: 0, last: 0))
            #expect(try await stores.audit.listLatest(5).isEmpty)
            let event = AuditEvent(
                "test.first",
                actor: "tester",
                subject: "s1",
                detail: .object(["n": .integer(1), "ok": .bool(true)])
            )
            let first = try await stores.audit.append(event, at: R.at(0.25))
            #expect(first.sequence == 1 && first.previousHash == AuditEntry.genesisHash)
            #expect(first.milliseconds == 1_900_000_000_250)
            #expect(AuditEvent(first.event, actor: first.actor, subject: first.subject, detail: first.detail) == event)
            #expect(first.isIntact(after: AuditEntry.genesisHash))
            let more = (2...4).map { AuditEvent("test.more", actor: "tester", subject: "s\($0)") }
            try await stores.audit.append(contentsOf: more, at: R.at(1))
            let all = try await stores.audit.list(after: 0, limit: 100)
            #expect(all.first == first)
            #expect(all.map(\.sequence) == [1, 2, 3, 4] && all.map(\.subject) == ["s1", "s2", "s3", "s4"])
            #expect(AuditLog.verify(exported: all) == nil)
            #expect(zip(all, all.dropFirst()).allSatisfy { $1.previousHash == $0.hash })
            #expect(try await stores.audit.list(after: 1, limit: 2) == Array(all[1...2]))
            #expect(try await stores.audit.listLatest(2) == Array(all[2...3]))
            #expect(try await stores.audit.listLatest(10) == all)
            #expect(try await stores.audit.report(against: nil) == AuditLog.Report(problem: nil, entries: 4, last: 4))
            let anchor = AuditLog.Anchor(sequence: 3, hash: all[2].hash)
            #expect(try await stores.audit.report(against: anchor).problem == nil)
            let forged = AuditLog.Anchor(sequence: 3, hash: all[1].hash)
            #expect(try await stores.audit.report(against: forged).problem?.sequence == 3)
        }
    }

    @Test("pruning the audit log removes the oldest entries and keeps the chain checkable", arguments: implementations)
    func pruneAudit(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            try await stores.audit.append(
                contentsOf: (1...3).map { AuditEvent("old", actor: "t", subject: "o\($0)") },
                at: R.at(-300)
            )
            try await stores.audit.append(
                contentsOf: (4...5).map { AuditEvent("new", actor: "t", subject: "n\($0)") },
                at: R.now
            )
            let all = try await stores.audit.list(after: 0, limit: 100)
            #expect(try await stores.audit.prune(before: R.at(-100), limit: 2) == 2)
            #expect(try await stores.audit.list(after: 0, limit: 100) == Array(all[2...]))
            #expect(try await stores.audit.report(against: nil) == AuditLog.Report(problem: nil, entries: 3, last: 5))
            #expect(try await stores.audit.prune(before: R.at(-100), limit: 10) == 1)
            #expect(try await stores.audit.prune(before: R.at(-100), limit: 10) == 0)
            #expect(
                try await stores.audit.report(against: AuditLog.Anchor(sequence: 4, hash: all[3].hash)).problem == nil
            )
            await #expect(throws: AuditLog.AnchorPruned.self) {
                try await stores.audit.report(against: AuditLog.Anchor(sequence: 1, hash: all[0].hash))
            }
            let next = try await stores.audit.append(AuditEvent("later", actor: "t", subject: "l"), at: R.at(10))
            #expect(next.sequence == 6 && next.previousHash == all[4].hash)
            #expect(try await stores.audit.report(against: nil) == AuditLog.Report(problem: nil, entries: 3, last: 6))
            // Everything pruned: the next entry still follows the last one removed.
            #expect(try await stores.audit.prune(before: R.at(100), limit: 10) == 3)
            let emptied = try await stores.audit.report(against: nil)
            #expect(emptied.problem == nil && emptied.entries == 0)
            #expect(emptied.last == 6)
            let after = try await stores.audit.append(AuditEvent("after", actor: "t", subject: "a"), at: R.at(200))
            #expect(after.sequence == 7 && after.previousHash == next.hash)
            #expect(try await stores.audit.report(against: nil) == AuditLog.Report(problem: nil, entries: 1, last: 7))
        }
    }

    @Test("operators are recorded, found by id or name, revoked once and counted", arguments: implementations)
    func operators(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            #expect(try await stores.operators.count() == 0)
            #expect(try await stores.operators.countActiveAdmins() == 0)
            #expect(try await stores.operators.isRevoked(id: "nobody"))
            let (_, ada) = try OperatorAuthenticator.makeToken(name: "ada", role: .admin, now: R.at(-100))
            var grace = ada
            (grace.id, grace.name, grace.createdAt) = ("grace-id", "grace", R.at(-50))
            var meter = ada
            (meter.id, meter.name, meter.role, meter.createdAt) = ("meter-id", "meter", .metrics, R.now)
            for record in [ada, grace, meter] {
                try await stores.operators.insert(
                    record,
                    audit: AuditEvent("operator.created", actor: "broker", subject: "operator:\(record.name)")
                )
            }
            #expect(
                try await R.auditEvents(stores).map(\.subject) == ["operator:ada", "operator:grace", "operator:meter"]
            )
            #expect(try await stores.operators.fetch(id: ada.id) == ada)
            #expect(try await stores.operators.fetch(id: "grace") == nil)
            #expect(try await stores.operators.fetch(nameOrID: "grace") == grace)
            #expect(try await stores.operators.fetch(nameOrID: "meter-id") == meter)
            #expect(try await stores.operators.fetch(nameOrID: "nobody") == nil)
            #expect(try await stores.operators.list() == [ada, grace, meter])
            #expect(try await stores.operators.count() == 3)
            #expect(try await stores.operators.countActiveAdmins() == 2)
            #expect(try await !stores.operators.isRevoked(id: grace.id))
            var revoked = grace
            revoked.revokedAt = R.at(10)
            #expect(
                try await stores.operators.revoke(nameOrID: "grace", actor: "operator:ada", at: R.at(10)) == revoked
            )
            #expect(try await R.auditEvents(stores).count == 4)
            #expect(
                try await stores.operators.revoke(nameOrID: "grace-id", actor: "operator:ada", at: R.at(20)) == revoked
            )
            #expect(try await R.auditEvents(stores).count == 4)
            #expect(try await stores.operators.revoke(nameOrID: "nobody", actor: "operator:ada", at: R.at(20)) == nil)
            #expect(try await stores.operators.isRevoked(id: grace.id))
            #expect(try await stores.operators.fetch(id: grace.id) == revoked)
            #expect(try await stores.operators.count() == 3)
            #expect(try await stores.operators.countActiveAdmins() == 1)
        }
    }
}
