import Foundation
import Testing
import WritBroker
import WritToken

private typealias R = StoreRecords

extension StoreConformanceTests {
    @Test("a recorded token reads back, audited; a closed or unknown task gets none", arguments: implementations)
    func tokenRoundTrip(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let open = try R.task("open", workload: R.coder, user: "alice")
            let closed = try R.task("closed", workload: R.coder, at: R.at(1))
            try await R.insert([open, closed], into: stores)
            try await R.close("closed", .complete, at: R.at(2), in: stores)
            let auditBefore = try await R.auditEvents(stores)
            let token = R.token("token", of: open, issued: R.at(3))
            #expect(try await R.record(token, into: stores) == .recorded)
            #expect(try await stores.tokens.fetch(id: "token") == token)
            #expect(try await R.auditEvents(stores) == auditBefore + [R.issuanceEvent(token)])
            let late = R.token("late", of: closed, issued: R.at(3))
            #expect(try await R.record(late, into: stores) == .taskClosed)
            var stray = R.token("stray", of: open, issued: R.at(3))
            stray.taskID = "unknown"
            #expect(try await R.record(stray, into: stores) != .recorded)
            for id in ["late", "stray", "never"] {
                #expect(try await stores.tokens.fetch(id: id) == nil, "token \(id)")
            }
            #expect(try await R.auditEvents(stores).count == auditBefore.count + 1)
        }
    }

    @Test("a DPoP proof binds one token, across calls and at the same time", arguments: implementations)
    func proofsAreSingleUse(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let task = try R.task("task", workload: R.coder)
            try await R.insert([task], into: stores)
            let proof = UsedProof(keyThumbprint: "key-1", id: "proof-1", expiresAt: R.at(60))
            #expect(try await R.record(R.token("first", of: task), into: stores, proof: proof) == .recorded)
            let auditBefore = try await R.auditEvents(stores).count
            #expect(try await R.record(R.token("again", of: task), into: stores, proof: proof) == .proofReplayed)
            #expect(try await stores.tokens.fetch(id: "again") == nil)
            #expect(try await R.auditEvents(stores).count == auditBefore)
            // A proof is the pair: the same id under another key, or another id under the same key, is new.
            let otherKey = UsedProof(keyThumbprint: "key-2", id: "proof-1", expiresAt: R.at(60))
            let otherID = UsedProof(keyThumbprint: "key-1", id: "proof-2", expiresAt: R.at(60))
            #expect(try await R.record(R.token("other-key", of: task), into: stores, proof: otherKey) == .recorded)
            #expect(try await R.record(R.token("other-id", of: task), into: stores, proof: otherID) == .recorded)
            let raced = UsedProof(keyThumbprint: "key-3", id: "proof-raced", expiresAt: R.at(60))
            let recordings = try await withThrowingTaskGroup(of: TokenRecording.self) { group in
                for index in 0..<8 {
                    let token = R.token("raced-\(index)", of: task)
                    group.addTask { try await R.record(token, into: stores, proof: raced) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(recordings.filter { $0 == .recorded }.count == 1)
            #expect(recordings.filter { $0 == .proofReplayed }.count == 7)
        }
    }

    @Test("a token is live until a token or task entry covers it", arguments: implementations)
    func tokenLiveness(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let task = try R.task("task", workload: R.coder)
            let other = try R.task("other", workload: R.coder, at: R.at(1))
            try await R.insert([task, other], into: stores)
            try await R.record(
                [R.token("kept", of: task, issued: R.at(2)), R.token("revoked", of: task, issued: R.at(2))],
                into: stores
            )
            try await R.record([R.token("closing", of: other, issued: R.at(2))], into: stores)
            #expect(try await stores.tokens.isLive(id: "kept", taskID: "task"))
            #expect(try await stores.tokens.isLive(id: "revoked", taskID: "task"))
            #expect(try await stores.tokens.isLive(id: "closing", taskID: "other"))
            #expect(try await !stores.tokens.isLive(id: "never", taskID: "task"))
            _ = try await stores.revocations.revoke(.token("revoked"), actor: "t", at: R.at(3), retention: 600)
            #expect(try await !stores.tokens.isLive(id: "revoked", taskID: "task"))
            #expect(try await stores.tokens.isLive(id: "kept", taskID: "task"))
            try await R.close("other", .complete, at: R.at(4), in: stores)
            #expect(try await !stores.tokens.isLive(id: "closing", taskID: "other"))
            #expect(try await stores.tokens.isLive(id: "kept", taskID: "task"))
        }
    }

    @Test(
        "pruning removes tokens and remembered proofs expired before the cutoff, up to the limit",
        arguments: implementations
    )
    func pruneTokens(_ implementation: StoreImplementation) async throws {
        try await implementation.withStores { stores in
            let task = try R.task("task", workload: R.coder)
            try await R.insert([task], into: stores)
            let expired = (1...3).map { R.token("expired-\($0)", of: task, issued: R.at(1), lifetime: 10) }
            let live = R.token("live", of: task, issued: R.at(1), lifetime: 300)
            try await R.record(expired + [live], into: stores)
            let oldProof = UsedProof(keyThumbprint: "key", id: "old", expiresAt: R.at(5))
            let newProof = UsedProof(keyThumbprint: "key", id: "new", expiresAt: R.at(200))
            #expect(
                try await R.record(R.token("proved-old", of: task, issued: R.at(1)), into: stores, proof: oldProof)
                    == .recorded
            )
            #expect(
                try await R.record(R.token("proved-new", of: task, issued: R.at(1)), into: stores, proof: newProof)
                    == .recorded
            )
            let cutoff = R.at(100)
            // Three expired tokens and one proof; a limit of two removes two tokens and the proof.
            #expect(try await stores.tokens.prune(expiredBefore: cutoff, limit: 2) == 3)
            var left = 0
            for token in expired where try await stores.tokens.fetch(id: token.id) != nil { left += 1 }
            #expect(left == 1)
            #expect(try await stores.tokens.prune(expiredBefore: cutoff, limit: 2) == 1)
            #expect(try await stores.tokens.prune(expiredBefore: cutoff, limit: 2) == 0)
            for token in expired {
                #expect(try await stores.tokens.fetch(id: token.id) == nil, "token \(token.id)")
            }
            #expect(try await stores.tokens.fetch(id: "live") == live)
            // A forgotten proof could not be accepted anyway; a remembered one is still refused.
            #expect(
                try await R.record(R.token("reused-old", of: task, issued: R.at(1)), into: stores, proof: oldProof)
                    == .recorded
            )
            #expect(
                try await R.record(R.token("reused-new", of: task, issued: R.at(1)), into: stores, proof: newProof)
                    == .proofReplayed
            )
        }
    }
}
