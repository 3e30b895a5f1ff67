import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test(
        "status indices are handed out once: blocks in order, the next epoch when a list is full, never twice at once",
        arguments: implementations
    )
    func statusIndicesOnce(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let lists = stores.statusLists
            let first = try await lists.reserve(keyID: "k1", count: 4, size: 10, at: R.at(0))
            #expect(first == StatusBlock(list: "k1.0", indices: 0..<4))
            #expect(try await lists.reserve(keyID: "k1", count: 4, size: 10, at: R.at(1)).indices == 4..<8)
            // The rest of the list, then a new epoch.
            #expect(try await lists.reserve(keyID: "k1", count: 4, size: 10, at: R.at(2)).indices == 8..<10)
            #expect(
                try await lists.reserve(keyID: "k1", count: 4, size: 10, at: R.at(3))
                    == StatusBlock(list: "k1.1", indices: 0..<4)
            )
            // Another key has lists of its own.
            #expect(
                try await lists.reserve(keyID: "k2", count: 1, size: 10, at: R.at(4))
                    == StatusBlock(list: "k2.0", indices: 0..<1)
            )
            let record = try #require(try await lists.fetch(list: "k1.0"))
            #expect(record.keyID == "k1" && record.epoch == 0 && record.size == 10 && record.nextIndex == 10)
            #expect(try await lists.fetch(list: "k3.0") == nil)
            let raced = try await withThrowingTaskGroup(of: StatusBlock.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await lists.reserve(keyID: "k4", count: 3, size: 100, at: R.at(5)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var seen = Set<Int>()
            for block in raced {
                #expect(block.list == "k4.0")
                for index in block.indices { #expect(seen.insert(index).inserted, "index \(index) handed out twice") }
            }
            #expect(seen == Set(0..<24))
        }
    }

    @Test(
        "a token's status is set in the commit that revokes it: task closes with sub-tasks, token, workload, user, issued-before",
        arguments: implementations
    )
    func statusSetByRevocations(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let parent = try R.task("parent", workload: R.coder, user: "alice")
            let child = try R.task("child", workload: R.summarizer, parent: parent)
            let bobs = try R.task("bobs", workload: R.coder, user: "bob", at: R.at(1))
            let later = try R.task("later", workload: R.summarizer, user: "carol", at: R.at(1))
            let other = try R.task("other", workload: R.assistant, user: "dave", at: R.at(1))
            try await R.insert([parent, child, bobs, later, other], into: stores)
            var index = 0
            func token(_ id: String, of task: BrokerTask, issued: TimeInterval) -> IssuedToken {
                var token = R.token(id, of: task, issued: R.at(issued))
                token.status = StatusSlot(list: "k.0", index: index)
                index += 1
                return token
            }
            let tokens = [
                token("p", of: parent, issued: 2), token("c", of: child, issued: 2), token("b", of: bobs, issued: 2),
                token("l1", of: later, issued: 2), token("l2", of: later, issued: 20), token("o", of: other, issued: 2),
                token("o2", of: other, issued: 3),
            ]
            try await R.record(tokens, into: stores)
            #expect(try await stores.tokens.fetch(id: "c")?.status == StatusSlot(list: "k.0", index: 1))
            func revoked() async throws -> [Int] { try await stores.statusLists.revokedIndices(list: "k.0") }
            #expect(try await revoked() == [])
            // A task's close reaches its sub-task's tokens.
            try await R.close("parent", .complete, at: R.at(30), in: stores)
            #expect(try await revoked() == [0, 1])
            // A token.
            _ = try await stores.revocations.revoke(.token("o2"), actor: "t", at: R.at(31), retention: 600)
            #expect(try await revoked() == [0, 1, 6])
            // A user's open tasks.
            _ = try await stores.revocations.revoke(.user("bob"), actor: "t", at: R.at(32), retention: 600)
            #expect(try await revoked() == [0, 1, 2, 6])
            // Issued before a time, for one workload: l1 (before), not l2 (after) nor o (another workload).
            _ = try await stores.revocations.revoke(
                .issuedBefore(R.at(10), workload: R.summarizer),
                actor: "t",
                at: R.at(33),
                retention: 600
            )
            #expect(try await revoked() == [0, 1, 2, 3, 6])
            // A workload's open tasks.
            _ = try await stores.revocations.revoke(.workload(R.assistant), actor: "t", at: R.at(34), retention: 600)
            #expect(try await revoked() == [0, 1, 2, 3, 5, 6])
            // Another list is untouched.
            #expect(try await stores.statusLists.revokedIndices(list: "k.1") == [])
            // A token minted before an issued-before revocation but recorded after it is recorded revoked.
            let late = try R.task("late", workload: R.orchestrator, at: R.at(1))
            try await R.insert([late], into: stores)
            _ = try await stores.revocations.revoke(
                .issuedBefore(R.at(40), workload: nil),
                actor: "t",
                at: R.at(40),
                retention: 600
            )
            #expect(try await revoked() == [0, 1, 2, 3, 4, 5, 6])
            var raced = token("raced", of: late, issued: 39)
            raced.status = StatusSlot(list: "k.0", index: 9)
            try await R.record([raced], into: stores)
            var after = token("after", of: late, issued: 41)
            after.status = StatusSlot(list: "k.0", index: 10)
            try await R.record([after], into: stores)
            #expect(try await revoked() == [0, 1, 2, 3, 4, 5, 6, 9])
        }
    }
}

extension StoreConformanceTests {
    @Test(
        "signal streams: at most the limit per receiver, read back whole, changed, moved forward only, deleted",
        arguments: implementations
    )
    func signalStreams(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let signals = stores.signals
            func stream(_ id: String, receiver: String = "spiffe://example.org/services/documents") -> SignalStream {
                SignalStream(
                    id: id,
                    receiver: receiver,
                    description: "documents",
                    eventsRequested: [SignalService.sessionRevoked],
                    delivery: .poll,
                    endpoint: "https://broker.test/v1/ssf/poll/\(id)",
                    authorization: nil,
                    status: .enabled,
                    statusReason: nil,
                    cursor: 7,
                    createdAt: R.at(Double(id.count))
                )
            }
            #expect(try await signals.insert(stream("s1"), limit: 2))
            #expect(try await signals.insert(stream("s22"), limit: 2))
            #expect(try await !signals.insert(stream("s333"), limit: 2))
            #expect(try await signals.insert(stream("s4", receiver: "spiffe://example.org/other"), limit: 2))
            #expect(try await signals.fetch(id: "s1") == stream("s1"))
            #expect(
                try await signals.list(receiver: "spiffe://example.org/services/documents").map(\.id) == ["s1", "s22"]
            )
            var changed = stream("s1")
            changed.description = nil
            changed.status = .paused
            changed.statusReason = "maintenance"
            changed.cursor = 99
            #expect(try await signals.update(changed))
            let read = try #require(try await signals.fetch(id: "s1"))
            #expect(read.status == .paused && read.statusReason == "maintenance" && read.description == nil)
            #expect(read.cursor == 7, "update never moves the cursor")
            #expect(try await signals.advance(id: "s1", to: 12))
            #expect(try await signals.advance(id: "s1", to: 9))
            #expect(try await signals.fetch(id: "s1")?.cursor == 12)
            #expect(try await signals.delete(id: "s1"))
            #expect(try await !signals.delete(id: "s1"))
            #expect(try await signals.fetch(id: "s1") == nil)
            #expect(try await !signals.advance(id: "s1", to: 20))
            #expect(try await !signals.update(changed))
        }
    }
}
