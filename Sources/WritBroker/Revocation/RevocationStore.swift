public import Foundation
public import WritToken

/// A page of the feed as stored.
public struct RevocationPage: Sendable, Hashable {
    /// The entries after the asked-for sequence, oldest first.
    public let entries: [Revocation]
    /// The first entry still stored; nil when there is none.
    public let first: UInt64?
    /// The last sequence ever given (entries up to it may have been pruned).
    public let last: UInt64

    /// A page.
    public init(entries: [Revocation], first: UInt64?, last: UInt64) {
        self.entries = entries
        self.first = first
        self.last = last
    }
}

/// What the broker loads at start: where the feed begins and ends, and the entries that can refuse a token
/// not yet issued (workload, user, issued-before, key and lift entries still retained).
public struct RevocationSnapshot: Sendable, Hashable {
    /// The first entry still stored; nil when there is none.
    public let first: UInt64?
    /// The last sequence ever given.
    public let last: UInt64
    /// The standing entries.
    public let standing: [Revocation]

    /// A snapshot.
    public init(first: UInt64?, last: UInt64, standing: [Revocation]) {
        self.first = first
        self.last = last
        self.standing = standing
    }
}

/// What an operator's revocation of a workload, user, token or issuance time did in the store.
public enum RevocationWrite: Sendable, Hashable {
    /// The entry was made (or, for a token revoked before, the first entry is returned).
    case revoked(RevocationOutcome)
    /// No such token is recorded.
    case unknownToken
    /// An issued-before time later than now allows.
    case futureCutoff
    /// Task, key and lift entries are written by their own operations (closing a task, rotating keys, lifting).
    case notThisWay
    /// The received event that asked for it was processed before: nothing was written.
    case replayed
}

/// What lifting an entry did.
public enum LiftWrite: Sendable, Hashable {
    /// Lifted now, or lifted before (``RevocationLift/isNew`` says which).
    case lifted(RevocationLift)
    /// No such entry is retained.
    case notFound
    /// Only workload and user entries are lifted.
    case notLiftable(Revocation)
}

/// Where the revocation feed is kept: an append-only sequence of entries, each retained while it can cover a
/// live token. Every method is one transaction.
public protocol RevocationStore: Sendable {
    /// Appends one entry as given (a revocation that needs no other change, e.g. a key's).
    func insert(
        _ subject: RevocationSubject,
        revokedAt: Date,
        retainUntil: Date,
        actor: String
    ) async throws
        -> Revocation
    /// Appends many entries in one transaction, in order (loading history, e.g. for a benchmark).
    func insert(contentsOf entries: [Revocation], actor: String) async throws
    /// Revokes a workload, user, token or issuance time for an operator: writes the entry, closes the open tasks
    /// it covers, counts the live tokens it newly covers, and audits it all. Entries of a workload, user or time
    /// are kept `retention` past now (an issued-before entry past its cutoff, rounded up to a whole second).
    func revoke(
        _ subject: RevocationSubject,
        actor: String,
        at date: Date,
        retention: TimeInterval
    ) async throws
        -> RevocationWrite
    /// As ``revoke(_:actor:at:retention:)``, once per received event: the event (a Shared Signals
    /// transmitter's issuer, as the key, and the event's `jti`) is remembered in the same commit until its
    /// `expiresAt`, and an event seen before is ``RevocationWrite/replayed`` with nothing written.
    func revoke(
        _ subject: RevocationSubject,
        actor: String,
        at date: Date,
        retention: TimeInterval,
        once event: UsedProof
    ) async throws
        -> RevocationWrite
    /// Lifts a workload or user entry from `date` on (a `lift` entry, audited with `reason`).
    func lift(_ sequence: UInt64, reason: String, actor: String, at date: Date) async throws -> LiftWrite
    /// Up to `limit` entries after `sequence`, with where the feed begins and ends.
    func page(after sequence: UInt64, limit: Int) async throws -> RevocationPage
    /// Up to `limit` entries after `sequence`, oldest first.
    func list(after sequence: UInt64, limit: Int) async throws -> [Revocation]
    /// What a starting broker loads.
    func snapshot(now: Date) async throws -> RevocationSnapshot
    /// Removes up to `limit` entries whose retention passed before `cutoff`, never one after `last` and never
    /// one after the first entry still needed (so the feed has no gap).
    func prune(before cutoff: Date, through last: UInt64, limit: Int) async throws -> Int
}

/// News that another broker on the same database committed revocation-feed entries. A wake-up only hastens
/// the catch-up by sequence number that every tick does anyway: a lost one delays an entry, never loses it.
public protocol FeedNotifier: Sendable {
    /// Runs until cancelled: calls `wake` with the entry's number after each entry committed by any broker,
    /// and with nil after each (re)connection, when notifications may have been missed.
    func follow(_ wake: @escaping @Sendable (UInt64?) async -> Void) async
}
