import Crypto
import Foundation
import GRDB
import WritToken

/// DPoP proofs the token endpoint has accepted, remembered in the database until they could no longer be
/// accepted anyway, so a proof is single-use across restarts (and across brokers sharing one database).
enum ProofRows {
    /// Records a proof by its key's thumbprint and its `jti`; false when it was recorded before (a replay).
    /// The row is keyed by expiry first, so inserts stay in time order and pruning reads a prefix.
    static func insert(_ db: Database, keyThumbprint: String, proofID: String, expiresAt: Date) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT INTO dpop_proofs (expires_at, proof) VALUES (?, ?) ON CONFLICT DO NOTHING"
        ).execute(arguments: [
            StoredTime.milliseconds(expiresAt.wholeSeconds), digest(keyThumbprint: keyThumbprint, proofID: proofID),
        ])
        return db.changesCount == 1
    }

    /// Deletes proofs that expired before `cutoff`, at most `limit`.
    static func prune(_ db: Database, expiredBefore cutoff: Date, limit: Int) throws -> Int {
        try db.cachedStatement(
            sql: """
                DELETE FROM dpop_proofs WHERE (expires_at, proof) IN (
                    SELECT expires_at, proof FROM dpop_proofs WHERE expires_at < ? ORDER BY expires_at LIMIT ?)
                """
        ).execute(arguments: [StoredTime.milliseconds(cutoff.wholeSeconds), limit])
        return db.changesCount
    }

    /// A fixed-size name for a proof: its `jti` is the client's choice and up to 256 bytes long.
    static func digest(keyThumbprint: String, proofID: String) -> String {
        let hash = SHA256.hash(data: Array((keyThumbprint + " " + proofID).utf8))
        return Base64URL.encode(Array(hash))
    }
}
