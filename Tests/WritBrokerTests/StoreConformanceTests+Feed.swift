import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

/// An issued-before revocation's time, as seconds from the second the suite's tokens are issued around, and
/// the workload it is scoped to.
struct IssuedBeforeCut: Sendable, CustomTestStringConvertible {
    let offset: TimeInterval
    let scope: SPIFFEID?

    var testDescription: String { "\(offset) s, \(scope?.description ?? "every workload")" }

    /// On, just before and just after whole seconds, mid-second, the revocation's own time and that time
    /// rounded up (what `writ revoke before now` sends), for every workload and scoped to one.
    static let all: [IssuedBeforeCut] = [-1, -0.001, 0, 0.001, 0.4, 0.999, 1, 1.5, 2].flatMap { offset in
        [nil, R.coder, R.orchestrator].map { IssuedBeforeCut(offset: offset, scope: $0) }
    }
}

extension StoreConformanceTests {
    @Test(
        "an issued-before revocation counts exactly the live tokens Revocation.covers, at every boundary",
        arguments: implementations,
        IssuedBeforeCut.all
    )
    func issuedBeforeCounts(_ implementation: StoreImplementation, _ cut: IssuedBeforeCut) async throws {
        try await implementation.withStores { stores in
            let own = try R.task("own", workload: R.coder, at: R.at(-500))
            let parent = try R.task("parent", workload: R.orchestrator, at: R.at(-500))
            // Acting as the summarizer, with the orchestrator in its acting chain.
            let delegated = try R.task("delegated", workload: R.summarizer, parent: parent, at: R.at(-500))
            let closed = try R.task("closed", workload: R.coder, at: R.at(-500))
            let tasks = [own, parent, delegated, closed]
            try await R.insert(tasks, into: stores)
            var tokens: [(IssuedToken, BrokerTask)] = []
            for task in tasks {
                for second in [-2, -1, 0, 1] as [TimeInterval] {
                    tokens.append((R.token("\(task.id)\(Int(second))", of: task, issued: R.at(second)), task))
                }
            }
            tokens.append((R.token("own-expired", of: own, issued: R.at(-400), lifetime: 100), own))
            try await R.record(tokens.map(\.0), into: stores)
            let now = R.at(1.5)
            try await R.close("closed", .abort, at: now, in: stores)
            let time = R.at(cut.offset)
            let entry = Revocation(
                sequence: 1,
                subject: .issuedBefore(time, workload: cut.scope),
                revokedAt: now,
                retainUntil: now
            )
            let expected = tokens.filter { token, task in
                task.state == .open && task.id != "closed" && token.expiresAt > now
                    && entry.covers(R.claims(of: token, in: task))
            }
            // The time as given; the store rounds it up to the entry's cutoff.
            let subject = RevocationSubject.issuedBefore(time, workload: cut.scope)
            let write = try await stores.revocations.revoke(subject, actor: "t", at: now, retention: 600)
            guard case .revoked(let outcome) = write else { throw R.Refused(what: "the cutoff: \(write)") }
            #expect(outcome.tokens == expected.count, "covers \(expected.map(\.0.id))")
            #expect(outcome.closedTasks.isEmpty)
            let written = try #require(outcome.revocations.first)
            #expect(written.subject == .issuedBefore(Revocation.cutoff(time), workload: cut.scope))
            #expect(written.revokedAt == now.wholeSeconds)
            #expect(written.retainUntil >= Revocation.cutoff(time).addingTimeInterval(600))
            // What the entry covers is now covered: the same revocation, rounded, covers nothing new.
            guard
                case .revoked(let again) = try await stores.revocations.revoke(
                    entry.subject,
                    actor: "t",
                    at: now,
                    retention: 600
                )
            else { throw R.Refused(what: "the second cutoff") }
            #expect(again.tokens == 0)
        }
    }

    @Test("a workload or user entry is lifted once; anything else is not liftable", arguments: implementations)
    func lift(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let task = try R.task("task", workload: R.assistant)
            try await R.insert([task], into: stores)
            try await R.record([R.token("token", of: task, issued: R.at(1))], into: stores)
            var entries: [String: Revocation] = [:]
            for (name, subject) in [
                ("workload", RevocationSubject.workload(R.coder)), ("user", .user("bob")), ("token", .token("token")),
                ("time", .issuedBefore(R.at(1), workload: nil)),
            ] {
                guard
                    case .revoked(let outcome) = try await stores.revocations.revoke(
                        subject,
                        actor: "t",
                        at: R.at(2),
                        retention: 600
                    )
                else { throw R.Refused(what: name) }
                entries[name] = outcome.revocations[0]
            }
            try await R.close("task", .complete, at: R.at(3), in: stores)
            entries["task"] = try await R.feed(stores).last
            entries["key"] = try await stores.revocations.insert(
                .key("kid"),
                revokedAt: R.at(3),
                retainUntil: R.at(600),
                actor: "t"
            )
            entries["lapsed"] = try await stores.revocations.insert(
                .user("carol"),
                revokedAt: R.at(-900),
                retainUntil: R.at(-300),
                actor: "t"
            )
            let auditBefore = try await R.auditEvents(stores)
            let workload = try #require(entries["workload"])
            let lapsed = try #require(entries["lapsed"])
            let lifted = try await stores.revocations.lift(
                workload.sequence,
                reason: "mistaken",
                actor: "operator:ada",
                at: R.at(10.5)
            )
            guard case .lifted(let lift) = lifted else { throw R.Refused(what: "the lift: \(lifted)") }
            #expect(lift.isNew && lift.lifted == workload)
            #expect(lift.entry.subject == .lift(workload.sequence, from: Revocation.cutoff(R.at(10.5))))
            #expect(lift.entry.sequence == lapsed.sequence + 1)
            #expect(try await R.feed(stores).last == lift.entry)
            #expect(
                try await R.auditEvents(stores) == auditBefore + [
                    lift.auditEvent(reason: "mistaken", actor: "operator:ada")
                ]
            )
            let again = try await stores.revocations.lift(workload.sequence, reason: "again", actor: "t", at: R.at(20))
            guard case .lifted(let earlier) = again else { throw R.Refused(what: "the second lift: \(again)") }
            #expect(earlier.entry == lift.entry && earlier.lifted == workload && !earlier.isNew)
            #expect(try await R.feed(stores).last == lift.entry)
            #expect(try await R.auditEvents(stores).count == auditBefore.count + 1)
            let user = try #require(entries["user"])
            guard
                case .lifted(let userLift) = try await stores.revocations.lift(
                    user.sequence,
                    reason: "r",
                    actor: "t",
                    at: R.at(20)
                )
            else { throw R.Refused(what: "the user lift") }
            #expect(userLift.isNew && userLift.lifted == user)
            for name in ["token", "time", "task", "key"] {
                let entry = try #require(entries[name])
                #expect(
                    try await stores.revocations.lift(entry.sequence, reason: "r", actor: "t", at: R.at(20))
                        == .notLiftable(entry),
                    "\(name)"
                )
            }
            #expect(
                try await stores.revocations.lift(lift.entry.sequence, reason: "r", actor: "t", at: R.at(20))
                    == .notLiftable(lift.entry)
            )
            #expect(
                try await stores.revocations.lift(lapsed.sequence, reason: "r", actor: "t", at: R.at(20))
                    == .notFound
            )
            #expect(try await stores.revocations.lift(9_999, reason: "r", actor: "t", at: R.at(20)) == .notFound)
        }
    }

    @Test("entries are appended with gapless sequence numbers and read back in order", arguments: implementations)
    func appendAndRead(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let empty = try await stores.revocations.page(after: 0, limit: 10)
            #expect(empty == RevocationPage(entries: [], first: nil, last: 0))
            #expect(
                try await stores.revocations.snapshot(now: R.now)
                    == RevocationSnapshot(first: nil, last: 0, standing: [])
            )
            let first = try await stores.revocations.insert(
                .task("task"),
                revokedAt: R.at(0.7),
                retainUntil: R.at(600.2),
                actor: "t"
            )
            #expect(first == Revocation(sequence: 1, subject: .task("task"), revokedAt: R.now, retainUntil: R.at(600)))
            let loaded: [Revocation] = [
                Revocation(sequence: 90, subject: .token("jti"), revokedAt: R.now, retainUntil: R.at(600)),
                Revocation(sequence: 91, subject: .workload(R.coder), revokedAt: R.now, retainUntil: R.at(600)),
                Revocation(sequence: 92, subject: .user("bob"), revokedAt: R.now, retainUntil: R.at(600)),
                Revocation(
                    sequence: 93,
                    subject: .issuedBefore(R.at(-10.5), workload: R.coder),
                    revokedAt: R.now,
                    retainUntil: R.at(600)
                ),
                Revocation(sequence: 94, subject: .key("kid"), revokedAt: R.now, retainUntil: R.at(600)),
                Revocation(sequence: 95, subject: .lift(3, from: R.at(1)), revokedAt: R.at(1), retainUntil: R.at(600)),
                Revocation(sequence: 96, subject: .user("carol"), revokedAt: R.at(-900), retainUntil: R.at(-1)),
            ]
            try await stores.revocations.insert(contentsOf: loaded, actor: "t")
            // Loaded entries keep their order and content and take the next sequence numbers.
            let all = try await R.feed(stores)
            #expect(all.map(\.sequence) == Array(1...8))
            #expect(all.dropFirst().map(\.subject) == loaded.map(\.subject))
            #expect(all.dropFirst().map(\.retainUntil) == loaded.map(\.retainUntil))
            #expect(try await stores.revocations.list(after: 2, limit: 3) == Array(all[2..<5]))
            #expect(
                try await stores.revocations.page(after: 0, limit: 3)
                    == RevocationPage(entries: Array(all[0..<3]), first: 1, last: 8)
            )
            #expect(
                try await stores.revocations.page(after: 6, limit: 10)
                    == RevocationPage(entries: Array(all[6...]), first: 1, last: 8)
            )
            #expect(
                try await stores.revocations.page(after: 8, limit: 10) == RevocationPage(entries: [], first: 1, last: 8)
            )
            // Standing: the entries that can refuse a token not yet issued, while retained.
            let snapshot = try await stores.revocations.snapshot(now: R.now)
            #expect(snapshot == RevocationSnapshot(first: 1, last: 8, standing: Array(all[2..<7])))
            #expect(try await stores.revocations.snapshot(now: R.at(601)).standing.isEmpty)
        }
    }

    @Test("concurrent appends get distinct, gapless sequence numbers", arguments: implementations)
    func concurrentAppends(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let sequences = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        try await stores.revocations.insert(
                            .user("u\(index)"),
                            revokedAt: R.now,
                            retainUntil: R.at(60),
                            actor: "t"
                        ).sequence
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(sequences.sorted() == Array(1...24))
            #expect(try await R.feed(stores).map(\.sequence) == Array(1...24))
        }
    }

    @Test("pruning the feed never passes `through` and never leaves a gap", arguments: implementations)
    func pruneFeed(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            // Entry 4 is still needed; 5 and 6 have lapsed but follow it.
            for retain in [-100, -90, -80, 100, -10, -10] as [TimeInterval] {
                _ = try await stores.revocations.insert(
                    .user("u"),
                    revokedAt: R.at(-1000),
                    retainUntil: R.at(retain),
                    actor: "t"
                )
            }
            let feed = { try await R.feed(stores).map(\.sequence) }
            #expect(try await stores.revocations.prune(before: R.now, through: 1, limit: 100) == 1)
            #expect(try await feed() == [2, 3, 4, 5, 6])
            #expect(try await stores.revocations.prune(before: R.now, through: 6, limit: 1) == 1)
            #expect(try await feed() == [3, 4, 5, 6])
            #expect(try await stores.revocations.prune(before: R.now, through: 6, limit: 100) == 1)
            #expect(try await feed() == [4, 5, 6])
            #expect(try await stores.revocations.prune(before: R.now, through: 6, limit: 100) == 0)
            #expect(try await stores.revocations.page(after: 0, limit: 10).first == 4)
            #expect(try await stores.revocations.prune(before: R.at(200), through: 5, limit: 100) == 2)
            #expect(try await feed() == [6])
            #expect(try await stores.revocations.prune(before: R.at(200), through: 6, limit: 100) == 1)
            #expect(
                try await stores.revocations.page(after: 0, limit: 10)
                    == RevocationPage(entries: [], first: nil, last: 6)
            )
            // A sequence number is never given twice, even once its entry is gone.
            let next = try await stores.revocations.insert(
                .user("v"),
                revokedAt: R.now,
                retainUntil: R.at(60),
                actor: "t"
            )
            #expect(next.sequence == 7)
        }
    }
}
