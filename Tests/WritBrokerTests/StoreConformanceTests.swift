import Foundation
import Testing
import WritBroker
import WritPolicy
import WritToken

private typealias R = StoreRecords

/// The store protocols' documented contracts, held against every implementation in
/// ``StoreImplementation/implementations``. Only the public protocols are used, so what passes here is what the
/// services and routes may rely on, whatever the database. Tasks here; tokens, the revocation feed, and keys,
/// the audit log and operators in the `StoreConformanceTests+…` files beside this one.
@Suite("Store conformance")
struct StoreConformanceTests {
    static let implementations = StoreImplementation.implementations

    @Test("a recorded task reads back with every field, and its audit entry is appended", arguments: implementations)
    func taskRoundTrip(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            var root = try R.task("root", workload: R.orchestrator, user: "alice", heartbeat: 30)
            root.attestation = .x509SVID
            let delegated = try R.task("delegated", workload: R.summarizer, parent: root, at: R.at(5))
            var bare = try R.task("bare", workload: R.coder, at: R.at(7), audience: R.docs)
            bare.purpose = nil
            try await R.insert([root, delegated, bare], into: stores)
            for task in [root, delegated, bare] {
                #expect(try await stores.tasks.fetch(id: task.id) == task)
            }
            // The delegated task carries what the store must keep: its parent, root, depth, chain and creator.
            #expect(delegated.actors == [R.orchestrator] && delegated.createdBy == R.orchestrator)
            #expect(delegated.parentID == "root" && delegated.rootID == "root" && delegated.depth == 1)
            #expect(try await stores.tasks.fetch(id: "unknown") == nil)
            #expect(try await R.auditEvents(stores) == [root, delegated, bare].map(R.creationEvent))
        }
    }

    @Test("whileCommitting runs once, with the task, and only when the task is recorded", arguments: implementations)
    func whileCommittingRunsOnce(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let calls = R.Calls()
            func insert(_ task: BrokerTask, limit: Int = 10) async throws -> TaskInsertion {
                try await stores.tasks.insert(
                    task,
                    openTaskLimit: limit,
                    audit: R.creationEvent(task),
                    whileCommitting: { calls.record($0.id) }
                )
            }
            let parent = try R.task("parent", workload: R.orchestrator)
            #expect(try await insert(parent) == .inserted)
            #expect(calls.all == ["parent"])
            #expect(try await insert(try R.task("limited", workload: R.orchestrator), limit: 1) == .overLimit(1))
            _ = try await stores.revocations.revoke(.user("bob"), actor: "test", at: R.now, retention: 600)
            #expect(try await insert(try R.task("bobs", workload: R.coder, user: "bob")) != .inserted)
            try await R.close("parent", .complete, at: R.now, in: stores)
            #expect(try await insert(try R.task("orphan", workload: R.summarizer, parent: parent)) == .parentClosed)
            #expect(calls.all == ["parent"])
        }
    }

    @Test(
        "a standing revocation of any workload in the chain, or of the user, refuses a task",
        arguments: implementations
    )
    func revocationsRefuseTasks(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let root = try R.task("root", workload: R.orchestrator, user: "alice")
            let child = try R.task("child", workload: R.summarizer, parent: root)
            try await R.insert([root, child], into: stores)
            let before = try await R.auditEvents(stores).count
            // Appended as given, so the parent tasks stay open and only the refusal is tested.
            let creator = try await stores.revocations.insert(
                .workload(R.orchestrator),
                revokedAt: R.now,
                retainUntil: R.at(600),
                actor: "test"
            )
            // Created by the summarizer, delegated from the orchestrator: refused as a delegator.
            let grandchild = try R.task("grandchild", workload: R.coder, parent: child, at: R.at(1))
            #expect(try await R.insert(grandchild, into: stores) == .refused(creator))
            // Created by the orchestrator itself.
            let sibling = try R.task("sibling", workload: R.assistant, parent: root, at: R.at(1))
            #expect(try await R.insert(sibling, into: stores) == .refused(creator))
            guard
                case .revoked(let acting) = try await stores.revocations.revoke(
                    .workload(R.assistant),
                    actor: "test",
                    at: R.at(2),
                    retention: 600
                )
            else { throw R.Refused(what: "a workload revocation") }
            let own = try R.task("own", workload: R.assistant, at: R.at(3))
            #expect(try await R.insert(own, into: stores) == .refused(acting.revocations[0]))
            guard
                case .revoked(let user) = try await stores.revocations.revoke(
                    .user("bob"),
                    actor: "test",
                    at: R.at(2),
                    retention: 600
                )
            else { throw R.Refused(what: "a user revocation") }
            let bobs = try R.task("bobs", workload: R.coder, user: "bob", at: R.at(3))
            #expect(try await R.insert(bobs, into: stores) == .refused(user.revocations[0]))
            for refused in [grandchild, sibling, own, bobs] {
                #expect(try await stores.tasks.fetch(id: refused.id) == nil)
            }
            // Refusals write nothing; the two revocations wrote their own entries.
            #expect(try await R.auditEvents(stores).count == before + 2)
            // Another user, and a workload whose entry lapsed, are not refused.
            #expect(
                try await R.insert(try R.task("carols", workload: R.coder, user: "carol"), into: stores) == .inserted
            )
            _ = try await stores.revocations.insert(
                .workload(R.coder),
                revokedAt: R.at(-700),
                retainUntil: R.at(-100),
                actor: "test"
            )
            #expect(try await R.insert(try R.task("lapsed", workload: R.coder), into: stores) == .inserted)
        }
    }

    @Test("a lifted workload or user revocation no longer refuses tasks", arguments: implementations)
    func liftAllowsTasks(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            for subject in [RevocationSubject.workload(R.coder), .user("bob")] {
                guard
                    case .revoked(let outcome) = try await stores.revocations.revoke(
                        subject,
                        actor: "test",
                        at: R.now,
                        retention: 600
                    )
                else { throw R.Refused(what: "\(subject)") }
                let refused = try R.task("refused-\(outcome.revocations[0].sequence)", workload: R.coder, user: "bob")
                #expect(try await R.insert(refused, into: stores) == .refused(outcome.revocations[0]))
                let lift = try await stores.revocations.lift(
                    outcome.revocations[0].sequence,
                    reason: "mistaken",
                    actor: "test",
                    at: R.at(10)
                )
                guard case .lifted = lift else { throw R.Refused(what: "the lift: \(lift)") }
            }
            let allowed = try R.task("allowed", workload: R.coder, user: "bob", at: R.at(11))
            #expect(try await R.insert(allowed, into: stores) == .inserted)
        }
    }

    @Test("a task whose parent closed is refused", arguments: implementations)
    func closedParentRefuses(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let parent = try R.task("parent", workload: R.orchestrator)
            let open = try R.task("open", workload: R.orchestrator, at: R.at(1))
            try await R.insert([parent, open], into: stores)
            try await R.close("parent", .abort, at: R.at(2), in: stores)
            let child = try R.task("child", workload: R.summarizer, parent: parent, at: R.at(3))
            #expect(try await R.insert(child, into: stores) == .parentClosed)
            #expect(try await stores.tasks.fetch(id: "child") == nil)
            let sibling = try R.task("sibling", workload: R.summarizer, parent: open, at: R.at(3))
            #expect(try await R.insert(sibling, into: stores) == .inserted)
        }
    }

    @Test(
        "the open-task limit counts the open tasks the creator made, delegated ones included",
        arguments: implementations
    )
    func openTaskLimit(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let first = try R.task("first", workload: R.orchestrator)
            let second = try R.task("second", workload: R.summarizer, parent: first, at: R.at(1))
            #expect(try await R.insert(first, into: stores, limit: 2) == .inserted)
            #expect(try await R.insert(second, into: stores, limit: 2) == .inserted)
            let third = try R.task("third", workload: R.orchestrator, at: R.at(2))
            #expect(try await R.insert(third, into: stores, limit: 2) == .overLimit(2))
            #expect(try await stores.tasks.fetch(id: "third") == nil)
            // Another creator has its own count; a closed task no longer counts.
            #expect(try await R.insert(try R.task("other", workload: R.coder), into: stores, limit: 2) == .inserted)
            try await R.close("second", .complete, at: R.at(3), in: stores)
            #expect(try await R.insert(third, into: stores, limit: 2) == .inserted)
        }
    }

    @Test("the open-task limit holds when many tasks are recorded at once", arguments: implementations)
    func openTaskLimitUnderConcurrency(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let insertions = try await withThrowingTaskGroup(of: TaskInsertion.self) { group in
                for index in 0..<16 {
                    let task = try R.task("t\(index)", workload: R.coder, at: R.at(Double(index)))
                    group.addTask { try await R.insert(task, into: stores, limit: 5) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(insertions.filter { $0 == .inserted }.count == 5)
            #expect(insertions.filter { $0 == .overLimit(5) }.count == 11)
            let listed = try await stores.tasks.list(matching: TaskFilter(), now: R.now)
            #expect(listed.count == 5)
        }
    }

    @Test("a heartbeat is recorded on an open task only", arguments: implementations)
    func heartbeats(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            try await R.insert([try R.task("beating", workload: R.coder, heartbeat: 10)], into: stores)
            #expect(try await stores.tasks.updateHeartbeat(id: "beating", at: R.at(8)))
            #expect(try await stores.tasks.fetch(id: "beating")?.lastHeartbeat == R.at(8))
            try await R.close("beating", .complete, at: R.at(9), in: stores)
            #expect(try await !stores.tasks.updateHeartbeat(id: "beating", at: R.at(12)))
            #expect(try await stores.tasks.fetch(id: "beating")?.lastHeartbeat == R.at(8))
            #expect(try await !stores.tasks.updateHeartbeat(id: "unknown", at: R.at(12)))
        }
    }

    @Test("closing a task closes its open subtree, with one feed and one audit entry each", arguments: implementations)
    func closeSubtree(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let root = try R.task("root", workload: R.orchestrator, user: "alice")
            let child = try R.task("child", workload: R.summarizer, parent: root, at: R.at(1))
            let grandchild = try R.task("grandchild", workload: R.coder, parent: child, at: R.at(2))
            let done = try R.task("done", workload: R.assistant, parent: root, at: R.at(3))
            try await R.insert([root, child, grandchild, done], into: stores)
            try await R.close("done", .complete, at: R.at(4), in: stores)
            // The root's token outlives the minimum retention; the grandchild's has expired by the close.
            try await R.record(
                [
                    R.token("root-long", of: root, issued: R.at(5), lifetime: 900),
                    R.token("child-short", of: child, issued: R.at(5), lifetime: 30),
                    R.token("grandchild-old", of: grandchild, issued: R.at(5), lifetime: 3),
                ],
                into: stores
            )
            let feedBefore = try await R.feed(stores)
            let auditBefore = try await R.auditEvents(stores).count
            let closedAt = R.at(10)
            let closure = try #require(
                try await stores.tasks.close(
                    "root",
                    .complete,
                    actor: "operator:ada",
                    reason: "all done",
                    at: closedAt,
                    minimumRetention: 300
                )
            )
            #expect(closure.state == .completed)
            #expect(closure.tasks.first == "root" && Set(closure.tasks) == ["root", "child", "grandchild"])
            #expect(closure.tasks.count == 3)
            #expect(closure.liveTokens == 2)
            #expect(closure.revocations.map(\.subject) == closure.tasks.map { .task($0) })
            let latestExpiry = ["root": R.at(905), "child": R.at(35), "grandchild": R.at(8)]
            for (id, entry) in zip(closure.tasks, closure.revocations) {
                #expect(entry.revokedAt == closedAt)
                #expect(entry.retainUntil >= closedAt.addingTimeInterval(300), "task \(id)")
                #expect(entry.retainUntil >= latestExpiry[id, default: .distantFuture], "task \(id)")
            }
            #expect(try await R.feed(stores) == feedBefore + closure.revocations)
            let audited = try await R.auditEvents(stores).dropFirst(auditBefore)
            let expected = zip(closure.tasks, closure.revocations).map { id, entry in
                TaskClosure.auditEvent(
                    closing: id,
                    root: "root",
                    state: .completed,
                    reason: "all done",
                    actor: "operator:ada",
                    revocation: entry
                )
            }
            #expect(Set(audited) == Set(expected) && audited.count == 3)
            let stored = try await stores.tasks.fetch(id: "root")
            #expect(stored?.state == .completed && stored?.reason == "all done" && stored?.closedAt == closedAt)
            for id in ["child", "grandchild"] {
                let task = try await stores.tasks.fetch(id: id)
                #expect(task?.state == .aborted && task?.closedAt == closedAt, "task \(id)")
            }
            #expect(try await stores.tasks.fetch(id: "done")?.closedAt == R.at(4))
            // Closed is for good: a second close, of the task or of a sub-task, does nothing.
            for id in ["root", "child", "unknown"] {
                #expect(
                    try await stores.tasks.close(
                        id,
                        .abort,
                        actor: "t",
                        reason: nil,
                        at: R.at(20),
                        minimumRetention: 60
                    ) == nil
                )
            }
            #expect(try await R.feed(stores).count == feedBefore.count + 3)
            #expect(try await R.auditEvents(stores).count == auditBefore + 3)
        }
    }
}
