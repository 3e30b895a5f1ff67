import Foundation
import GRDB
import WritToken

/// ``TokenStore`` over the SQLite database.
struct SQLiteTokenStore: TokenStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func insert(
        _ token: IssuedToken,
        proof: UsedProof?,
        audit: AuditEvent,
        at date: Date
    ) async throws
        -> TokenRecording
    {
        try await database.write { db in
            // A task closed meanwhile gets no token, and a close that commits after this one sees the token when
            // it computes its revocation's retention.
            guard try TaskRows.state(db, id: token.taskID) == .open else { return .taskClosed }
            if let proof,
                try !ProofRows.insert(
                    db,
                    keyThumbprint: proof.keyThumbprint,
                    proofID: proof.id,
                    expiresAt: proof.expiresAt
                )
            {
                return .proofReplayed
            }
            try TokenRows.insert(db, token)
            try StatusRows.markIfCovered(db, tokenID: token.id)
            try AuditRows.append(db, audit, at: date)
            return .recorded
        }
    }

    func fetch(id: String) async throws -> IssuedToken? {
        try await database.read { db in try TokenRows.fetch(db, id: id) }
    }

    func audiences(taskID: String) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT DISTINCT audience FROM tokens WHERE task_id = ? ORDER BY audience"),
                arguments: [taskID]
            )
        }
    }

    func isLive(id: String, taskID: String) async throws -> Bool {
        try await database.read { db in
            try TokenRows.fetch(db, id: id) != nil
                && RevocationRows.fetchCovering(db, taskID: taskID, tokenID: id) == nil
        }
    }

    func prune(expiredBefore cutoff: Date, limit: Int) async throws -> Int {
        try await database.write { db in
            try TokenRows.prune(db, expiredBefore: cutoff, limit: limit)
                + ProofRows.prune(db, expiredBefore: cutoff, limit: limit)
        }
    }
}
