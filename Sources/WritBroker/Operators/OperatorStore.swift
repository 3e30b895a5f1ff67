public import Foundation

/// An operator's role: what its token may do.
public enum OperatorRole: String, Sendable, Hashable, CaseIterable {
    /// Everything in the admin API.
    case admin
    /// Introspection and the revocation feed.
    case introspect
    /// `/metrics` only.
    case metrics
}

/// An operator as stored: the Argon2id hash of its token's secret, never the secret.
public struct OperatorRecord: Sendable, Hashable {
    /// The token's public id.
    public var id: String
    /// A name people use.
    public var name: String
    /// What the token may do.
    public var role: OperatorRole
    /// Argon2id of the secret.
    public var hash: String
    /// When it was made.
    public var createdAt: Date
    /// When it was revoked, if it was.
    public var revokedAt: Date?
}

/// Where operators are kept. Every method is one transaction.
public protocol OperatorStore: Sendable {
    /// Records an operator and audits it.
    func insert(_ record: OperatorRecord, audit: AuditEvent) async throws
    /// An operator by token id.
    func fetch(id: String) async throws -> OperatorRecord?
    /// An operator by name or token id.
    func fetch(nameOrID: String) async throws -> OperatorRecord?
    /// Every operator, oldest first.
    func list() async throws -> [OperatorRecord]
    /// Revokes an operator by name or id (audited the first time); the record, or nil when there is none.
    func revoke(nameOrID: String, actor: String, at date: Date) async throws -> OperatorRecord?
    /// Whether an operator is revoked (or unknown).
    func isRevoked(id: String) async throws -> Bool
    /// How many operators were ever made.
    func count() async throws -> Int
    /// How many operators have the admin role and are not revoked.
    func countActiveAdmins() async throws -> Int
}
