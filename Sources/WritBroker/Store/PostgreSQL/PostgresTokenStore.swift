import Foundation
import PostgresNIO
import WritToken

/// Issued tokens and used DPoP proofs on PostgreSQL. A proof recorded here is spent at every broker on the
/// database: its replay to another broker finds it.
struct PostgresTokenStore: TokenStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func insert(
        _ token: IssuedToken,
        proof: UsedProof?,
        audit: AuditEvent,
        at date: Date
    ) async throws
        -> TokenRecording
    {
        try await database.write { session in
            // A task closed meanwhile gets no token, and a close that commits after this one sees the token when
            // it computes its revocation's retention.
            guard try await PostgresTaskRows.state(session, id: token.taskID) == .open else { return .taskClosed }
            if let proof, try await !PostgresTokenRows.insertProof(session, proof) { return .proofReplayed }
            try await PostgresTokenRows.insert(session, token)
            try await PostgresStatusRows.markIfCovered(session, tokenID: token.id)
            try await PostgresAuditRows.append(session, audit, at: date)
            return .recorded
        }
    }

    func fetch(id: String) async throws -> IssuedToken? {
        try await database.read { session in try await PostgresTokenRows.fetch(session, id: id) }
    }

    func audiences(taskID: String) async throws -> [String] {
        try await database.read { session in
            try await session.strings(
                "SELECT DISTINCT audience FROM tokens WHERE task_id = \(taskID) ORDER BY audience COLLATE \"C\""
            )
        }
    }

    func isLive(id: String, taskID: String) async throws -> Bool {
        try await database.read { session in
            guard try await PostgresTokenRows.fetch(session, id: id) != nil else { return false }
            return try await PostgresRevocationRows.fetchCovering(session, taskID: taskID, tokenID: id) == nil
        }
    }

    func prune(expiredBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { session in
            try await PostgresTokenRows.prune(session, expiredBefore: cutoff, limit: limit)
        }
    }
}
