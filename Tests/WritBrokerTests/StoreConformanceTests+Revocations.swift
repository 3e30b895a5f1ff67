import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test(
        "revoking a token writes one entry kept while it lives; a second revocation answers the first",
        arguments: implementations
    )
    func revokeToken(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let open = try R.task("open", workload: R.coder)
            let closed = try R.task("closed", workload: R.coder, at: R.at(1))
            try await R.insert([open, closed], into: stores)
            let token = R.token("token", of: open, issued: R.at(2), lifetime: 900)
            try await R.record(
                [
                    token, R.token("expired", of: open, issued: R.at(2), lifetime: 5),
                    R.token("of-closed", of: closed, issued: R.at(2)),
                ],
                into: stores
            )
            try await R.close("closed", .complete, at: R.at(3), in: stores)
            let feedBefore = try await R.feed(stores)
            let auditBefore = try await R.auditEvents(stores)
            #expect(
                try await stores.revocations.revoke(.token("never"), actor: "t", at: R.at(10), retention: 60)
                    == .unknownToken
            )
            #expect(try await R.feed(stores) == feedBefore)
            guard
                case .revoked(let first) = try await stores.revocations.revoke(
                    .token("token"),
                    actor: "operator:ada",
                    at: R.at(10),
                    retention: 60
                )
            else { throw R.Refused(what: "the token's revocation") }
            let entry = try #require(first.revocations.first)
            #expect(first.revocations.count == 1 && first.closedTasks.isEmpty && first.tokens == 1)
            #expect(entry.subject == .token("token") && entry.revokedAt == R.at(10))
            #expect(entry.retainUntil >= token.expiresAt)
            #expect(try await R.feed(stores) == feedBefore + [entry])
            let audited = try await R.auditEvents(stores)
            #expect(audited == auditBefore + RevocationOutcome.auditEvents(entry, closing: [], actor: "operator:ada"))
            let again = try await stores.revocations.revoke(.token("token"), actor: "t", at: R.at(20), retention: 60)
            guard case .revoked(let second) = again else { throw R.Refused(what: "the second revocation: \(again)") }
            #expect(second.revocations == [entry])
            #expect(try await R.feed(stores) == feedBefore + [entry])
            #expect(try await R.auditEvents(stores) == audited)
            // An expired token, or one whose task closed, was no longer live: nothing newly covered.
            for id in ["expired", "of-closed"] {
                guard
                    case .revoked(let outcome) = try await stores.revocations.revoke(
                        .token(id),
                        actor: "t",
                        at: R.at(20),
                        retention: 60
                    )
                else { throw R.Refused(what: "revoking \(id)") }
                #expect(outcome.tokens == 0, "token \(id)")
            }
        }
    }

    @Test(
        "revoking a workload closes its open tasks and their subtrees and counts their live tokens",
        arguments: implementations
    )
    func revokeWorkload(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let root = try R.task("root", workload: R.orchestrator, user: "alice")
            let child = try R.task("child", workload: R.summarizer, parent: root, at: R.at(1))
            let grandchild = try R.task("grandchild", workload: R.coder, parent: child, at: R.at(2))
            let finished = try R.task("finished", workload: R.orchestrator, at: R.at(3))
            let unrelated = try R.task("unrelated", workload: R.coder, at: R.at(4))
            try await R.insert([root, child, grandchild, finished, unrelated], into: stores)
            try await R.record(
                [
                    R.token("root-live", of: root, issued: R.at(5)),
                    R.token("root-expired", of: root, issued: R.at(5), lifetime: 5),
                    R.token("child-live", of: child, issued: R.at(5)),
                    R.token("grandchild-live", of: grandchild, issued: R.at(5)),
                    R.token("grandchild-revoked", of: grandchild, issued: R.at(5)),
                    R.token("finished-token", of: finished, issued: R.at(5)),
                    R.token("unrelated-token", of: unrelated, issued: R.at(5)),
                ],
                into: stores
            )
            _ = try await stores.revocations.revoke(
                .token("grandchild-revoked"),
                actor: "t",
                at: R.at(6),
                retention: 60
            )
            try await R.close("finished", .complete, at: R.at(7), in: stores)
            let feedBefore = try await R.feed(stores)
            let auditBefore = try await R.auditEvents(stores)
            let now = R.at(20)
            let write = try await stores.revocations.revoke(
                .workload(R.orchestrator),
                actor: "operator:ada",
                at: now,
                retention: 600
            )
            guard case .revoked(let outcome) = write else { throw R.Refused(what: "the workload: \(write)") }
            let entry = try #require(outcome.revocations.first)
            #expect(outcome.revocations.count == 1)
            #expect(entry.subject == .workload(R.orchestrator) && entry.revokedAt == now)
            #expect(entry.retainUntil >= now.addingTimeInterval(600))
            #expect(Set(outcome.closedTasks) == ["root", "child", "grandchild"] && outcome.closedTasks.count == 3)
            #expect(outcome.tokens == 3)
            for id in outcome.closedTasks {
                let task = try await stores.tasks.fetch(id: id)
                #expect(task?.state == .aborted && task?.closedAt == now, "task \(id)")
            }
            #expect(try await stores.tasks.fetch(id: "unrelated")?.state == .open)
            #expect(try await stores.tasks.fetch(id: "finished")?.state == .completed)
            #expect(try await R.feed(stores) == feedBefore + [entry])
            let audited = try await R.auditEvents(stores).dropFirst(auditBefore.count)
            let expected = RevocationOutcome.auditEvents(entry, closing: outcome.closedTasks, actor: "operator:ada")
            #expect(audited.first == expected.first && Set(audited) == Set(expected) && audited.count == expected.count)
        }
    }

    @Test("revoking a user closes the user's open tasks and counts their live tokens", arguments: implementations)
    func revokeUser(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let alices = try R.task("alices", workload: R.orchestrator, user: "alice")
            let delegated = try R.task("delegated", workload: R.summarizer, parent: alices, at: R.at(1))
            let closed = try R.task("closed", workload: R.coder, user: "alice", at: R.at(2))
            let bobs = try R.task("bobs", workload: R.coder, user: "bob", at: R.at(3))
            try await R.insert([alices, delegated, closed, bobs], into: stores)
            try await R.record(
                [
                    R.token("alices-token", of: alices, issued: R.at(5)),
                    R.token("delegated-token", of: delegated, issued: R.at(5)),
                    R.token("closed-token", of: closed, issued: R.at(5)),
                    R.token("bobs-token", of: bobs, issued: R.at(5)),
                ],
                into: stores
            )
            try await R.close("closed", .abort, at: R.at(6), in: stores)
            let now = R.at(20)
            let write = try await stores.revocations.revoke(
                .user("alice"),
                actor: "operator:ada",
                at: now,
                retention: 600
            )
            guard case .revoked(let outcome) = write else { throw R.Refused(what: "the user: \(write)") }
            #expect(outcome.revocations.map(\.subject) == [.user("alice")])
            #expect(outcome.revocations.first.map { $0.retainUntil >= now.addingTimeInterval(600) } == true)
            #expect(Set(outcome.closedTasks) == ["alices", "delegated"] && outcome.tokens == 2)
            #expect(try await stores.tasks.fetch(id: "bobs")?.state == .open)
            #expect(try await stores.tasks.fetch(id: "delegated")?.state == .aborted)
        }
    }

    @Test("task, key and lift entries are not written by an operator's revocation", arguments: implementations)
    func revokeRefusesOtherKinds(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            try await R.insert([try R.task("task", workload: R.coder)], into: stores)
            let workload = try await stores.revocations.revoke(
                .workload(R.assistant),
                actor: "t",
                at: R.now,
                retention: 60
            )
            let subjects: [RevocationSubject] = [.task("task"), .key("kid"), .lift(1, from: R.now)]
            let feedBefore = try await R.feed(stores)
            let auditBefore = try await R.auditEvents(stores)
            for subject in subjects {
                #expect(
                    try await stores.revocations.revoke(subject, actor: "t", at: R.at(1), retention: 60) == .notThisWay
                )
            }
            #expect(try await R.feed(stores) == feedBefore && feedBefore.count == 1)
            #expect(try await R.auditEvents(stores) == auditBefore)
            #expect(try await stores.tasks.fetch(id: "task")?.state == .open)
            guard case .revoked = workload else { throw R.Refused(what: "the workload") }
        }
    }

    @Test("an issued-before time later than now allows is refused", arguments: implementations)
    func futureCutoff(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            try await R.insert([try R.task("task", workload: R.coder)], into: stores)
            let revoke = { (time: Date) in
                try await stores.revocations.revoke(
                    .issuedBefore(time, workload: nil),
                    actor: "t",
                    at: R.now,
                    retention: 60
                )
            }
            #expect(try await revoke(R.at(3600)) == .futureCutoff)
            #expect(try await revoke(R.at(86_400)) == .futureCutoff)
            #expect(try await R.feed(stores).isEmpty)
            #expect(try await R.auditEvents(stores).count == 1)
            guard case .revoked = try await revoke(R.at(-10)) else { throw R.Refused(what: "a past cutoff") }
        }
    }
}
