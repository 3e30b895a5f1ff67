public import Foundation

/// A DPoP proof accepted at the token endpoint, remembered so it is used once across restarts and brokers.
public struct UsedProof: Sendable, Hashable {
    /// The thumbprint of the proof's key.
    public let keyThumbprint: String
    /// The proof's `jti`.
    public let id: String
    /// When it could no longer be accepted anyway.
    public let expiresAt: Date

    /// A used proof.
    public init(keyThumbprint: String, id: String, expiresAt: Date) {
        self.keyThumbprint = keyThumbprint
        self.id = id
        self.expiresAt = expiresAt
    }
}

/// What recording an issued token came to.
public enum TokenRecording: Sendable, Hashable {
    /// Recorded and audited.
    case recorded
    /// The task closed meanwhile: no token.
    case taskClosed
    /// The DPoP proof was used before (here after a restart, or at another broker on the same store).
    case proofReplayed
}

/// Where issued tokens (and the DPoP proofs that bound them) are kept. Every method is one transaction.
public protocol TokenStore: Sendable {
    /// Records a token, with its proof and audit entry, if its task is still open and the proof unused.
    func insert(
        _ token: IssuedToken,
        proof: UsedProof?,
        audit: AuditEvent,
        at date: Date
    ) async throws
        -> TokenRecording
    /// A recorded token; nil when there is none (never issued, or pruned after it expired).
    func fetch(id: String) async throws -> IssuedToken?
    /// The audiences a task's recorded tokens were issued for, sorted.
    func audiences(taskID: String) async throws -> [String]
    /// Whether a token is recorded and no task or token entry in the store covers it.
    func isLive(id: String, taskID: String) async throws -> Bool
    /// Removes up to `limit` tokens, and up to `limit` remembered proofs, that expired before `cutoff`.
    func prune(expiredBefore cutoff: Date, limit: Int) async throws -> Int
}
