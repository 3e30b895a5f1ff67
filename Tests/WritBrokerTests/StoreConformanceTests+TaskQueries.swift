import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test("due tasks are the open ones past their deadline or their heartbeats", arguments: implementations)
    func listDue(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let tasks = [
                try R.task("short", workload: R.coder, duration: 60),
                try R.task("beating", workload: R.coder, duration: 600, heartbeat: 10),
                try R.task("long", workload: R.orchestrator, duration: 600),
                try R.task("closed", workload: R.orchestrator, duration: 30),
            ]
            try await R.insert(tasks, into: stores)
            try await R.close("closed", .complete, at: R.at(1), in: stores)
            // The task's own rule is the oracle, at the boundaries of both.
            for offset in [0, 19, 20, 20.5, 59, 60, 61, 600] as [TimeInterval] {
                let time = R.at(offset)
                var expected: Set<String> = []
                for task in tasks {
                    if let stored = try await stores.tasks.fetch(id: task.id), stored.isDue(at: time) {
                        expected.insert(task.id)
                    }
                }
                #expect(Set(try await stores.tasks.listDue(now: time, limit: 100)) == expected, "at +\(offset) s")
            }
            #expect(try await stores.tasks.listDue(now: R.at(61), limit: 1).count == 1)
            // A heartbeat puts the task's next due time back.
            #expect(try await stores.tasks.updateHeartbeat(id: "beating", at: R.at(15)))
            #expect(try await stores.tasks.listDue(now: R.at(30), limit: 100).isEmpty)
            #expect(try await stores.tasks.listDue(now: R.at(35.5), limit: 100) == ["beating"])
        }
    }

    @Test(
        "listing tasks filters, orders newest first, returns one more than the limit and counts tokens",
        arguments: implementations
    )
    func listTasks(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let tasks = [
                try R.task("a", workload: R.coder, user: "alice", at: R.at(0)),
                try R.task("b", workload: R.coder, user: "bob", at: R.at(1), audience: R.docs),
                try R.task("c", workload: R.orchestrator, user: "alice", at: R.at(2)),
                try R.task("d", workload: R.orchestrator, at: R.at(3), audience: R.docs),
                try R.task("e", workload: R.coder, at: R.at(4)),
            ]
            try await R.insert(tasks, into: stores)
            try await R.record(
                [
                    R.token("a-live", of: tasks[0], issued: R.at(10)),
                    R.token("a-expired", of: tasks[0], issued: R.at(10), lifetime: 5),
                    R.token("a-revoked", of: tasks[0], issued: R.at(10)),
                    R.token("c-live", of: tasks[2], issued: R.at(10)),
                ],
                into: stores
            )
            _ = try await stores.revocations.revoke(.token("a-revoked"), actor: "t", at: R.at(20), retention: 600)
            try await R.close("c", .complete, at: R.at(20), in: stores)
            let now = R.at(30)
            func ids(_ adjust: (inout TaskFilter) -> Void) async throws -> [String] {
                var filter = TaskFilter()
                adjust(&filter)
                return try await stores.tasks.list(matching: filter, now: now).map(\.task.id)
            }
            #expect(try await ids { _ in } == ["e", "d", "c", "b", "a"])
            #expect(try await ids { $0.limit = 2 } == ["e", "d", "c"])
            #expect(try await ids { $0.limit = 5 } == ["e", "d", "c", "b", "a"])
            #expect(try await ids { $0.workload = R.coder.description } == ["e", "b", "a"])
            #expect(try await ids { $0.user = "alice" } == ["c", "a"])
            #expect(try await ids { $0.state = .completed } == ["c"])
            #expect(try await ids { $0.state = .open } == ["e", "d", "b", "a"])
            #expect(try await ids { $0.audience = R.docs } == ["d", "b"])
            #expect(
                try await ids {
                    $0.workload = R.coder.description
                    $0.user = "alice"
                } == ["a"]
            )
            #expect(try await ids { $0.user = "nobody" }.isEmpty)
            let summaries = try await stores.tasks.list(matching: TaskFilter(), now: now)
            let counts = Dictionary(uniqueKeysWithValues: summaries.map { ($0.task.id, [$0.tokens, $0.liveTokens]) })
            #expect(counts == ["a": [3, 1], "b": [0, 0], "c": [1, 0], "d": [0, 0], "e": [0, 0]])
            for summary in summaries {
                #expect(try await stores.tasks.fetch(id: summary.task.id) == summary.task)
            }
        }
    }

    @Test(
        "a task tree lists the task and its descendants depth first, with each token's state",
        arguments: implementations
    )
    func fetchTree(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let root = try R.task("root", workload: R.orchestrator)
            let first = try R.task("first", workload: R.summarizer, parent: root, at: R.at(1))
            let nested = try R.task("nested", workload: R.coder, parent: first, at: R.at(2))
            let second = try R.task("second", workload: R.assistant, parent: root, at: R.at(3))
            try await R.insert([root, first, nested, second], into: stores)
            try await R.record(
                [
                    R.token("root-token", of: root, issued: R.at(5)),
                    R.token("nested-token", of: nested, issued: R.at(5)),
                    R.token("second-revoked", of: second, issued: R.at(5)),
                    R.token("second-live", of: second, issued: R.at(6)),
                ],
                into: stores
            )
            _ = try await stores.revocations.revoke(.token("second-revoked"), actor: "t", at: R.at(7), retention: 600)
            try await R.close("first", .abort, at: R.at(8), in: stores)
            let tree = try #require(try await stores.tasks.fetchTree(id: "root"))
            #expect(tree.tasks.map(\.id) == ["root", "first", "nested", "second"])
            #expect(tree.tasks[0] == root)
            let revoked = Dictionary(uniqueKeysWithValues: tree.tokens.map { ($0.token.id, $0.revoked) })
            #expect(
                revoked == ["root-token": false, "nested-token": true, "second-revoked": true, "second-live": false]
            )
            #expect(
                tree.tokens.first { $0.token.id == "root-token" }?.token
                    == R.token("root-token", of: root, issued: R.at(5))
            )
            let subtree = try #require(try await stores.tasks.fetchTree(id: "first"))
            #expect(subtree.tasks.map(\.id) == ["first", "nested"])
            #expect(subtree.tokens.map(\.token.id) == ["nested-token"])
            #expect(try await stores.tasks.fetchTree(id: "unknown") == nil)
        }
    }

    @Test("workload activity counts tasks, open tasks and live tokens, most recent first", arguments: implementations)
    func listWorkloads(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let older = try R.task("older", workload: R.coder, at: R.at(0))
            let newer = try R.task("newer", workload: R.coder, at: R.at(2))
            let latest = try R.task("latest", workload: R.orchestrator, at: R.at(4))
            try await R.insert([older, newer, latest], into: stores)
            try await R.record(
                [
                    R.token("older-token", of: older, issued: R.at(5)),
                    R.token("newer-live", of: newer, issued: R.at(5)),
                    R.token("newer-expired", of: newer, issued: R.at(5), lifetime: 5),
                    R.token("latest-one", of: latest, issued: R.at(5)),
                    R.token("latest-two", of: latest, issued: R.at(6)),
                ],
                into: stores
            )
            try await R.close("older", .complete, at: R.at(8), in: stores)
            let activity = try await stores.tasks.listWorkloads(now: R.at(20))
            #expect(activity.map(\.workload) == [R.orchestrator.description, R.coder.description])
            #expect(activity.map(\.tasks) == [1, 2])
            #expect(activity.map(\.openTasks) == [1, 1])
            #expect(activity.map(\.liveTokens) == [2, 1])
            #expect(activity.map(\.lastTask) == [R.at(4), R.at(2)])
        }
    }

    @Test(
        "pruning removes closed tasks closed before the cutoff, never one with a sub-task left",
        arguments: implementations
    )
    func pruneTasks(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let parent = try R.task("parent", workload: R.orchestrator)
            let child = try R.task("child", workload: R.summarizer, parent: parent, at: R.at(1))
            let lone = [try R.task("lone-1", workload: R.coder), try R.task("lone-2", workload: R.coder)]
            let open = try R.task("open", workload: R.assistant)
            let late = try R.task("late", workload: R.assistant, at: R.at(1))
            try await R.insert([parent, child, open, late] + lone, into: stores)
            for id in ["parent", "lone-1", "lone-2"] {
                try await R.close(id, .complete, at: R.at(10), in: stores)
            }
            try await R.close("late", .complete, at: R.at(100), in: stores)
            let cutoff = R.at(50)
            #expect(try await stores.tasks.prune(closedBefore: cutoff, limit: 1) == 1)
            var removed = 1
            while true {
                if try await stores.tasks.fetch(id: "parent") == nil {
                    #expect(try await stores.tasks.fetch(id: "child") == nil, "a parent went before its sub-task")
                }
                let count = try await stores.tasks.prune(closedBefore: cutoff, limit: 10)
                guard count > 0, removed < 10 else { break }
                removed += count
            }
            #expect(removed == 4)
            for id in ["parent", "child", "lone-1", "lone-2"] {
                #expect(try await stores.tasks.fetch(id: id) == nil, "task \(id)")
            }
            #expect(try await stores.tasks.fetch(id: "open") == open)
            #expect(try await stores.tasks.fetch(id: "late")?.state == .completed)
        }
    }
}
