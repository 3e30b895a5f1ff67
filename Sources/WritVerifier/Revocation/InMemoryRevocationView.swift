public import Foundation
import Synchronization
public import WritToken

/// A revocation view held in memory, indexed by task, token, workload, user and issued-before time.
///
/// With a ``maximumStaleness``, the view counts as stale from creation until its first ``markSynced(at:)``
/// and whenever that long passes without one; while stale, every token is refused. Entries are dropped by
/// ``prune(now:)`` once every token they cover has expired, so memory stays bounded.
public final class InMemoryRevocationView: RevocationView {
    struct State {
        var tasks: [String: Revocation] = [:]
        var tokens: [String: Revocation] = [:]
        var workloads: [SPIFFEID: [Revocation]] = [:]
        var users: [String: [Revocation]] = [:]
        var cutoffs: [Revocation] = []
        /// Retired signing keys, by `kid`.
        var keys: [String: Revocation] = [:]
        /// Lifted workload and user entries: from this whole second on, the entry covers no new token.
        var lifted: [UInt64: Date] = [:]
        /// The lift entries themselves, kept as long as what they lift.
        var lifts: [Revocation] = []
        /// Every entry at or below this has been applied.
        var lastSequence: UInt64 = 0
        /// Entries above `lastSequence` applied out of order, waiting for the gap below them to fill.
        var ahead: Set<UInt64> = []
        var lastHeard: Date?
    }

    private let state = Mutex(State())
    /// How long the view may go without hearing from the broker before it refuses every token; nil for never.
    public let maximumStaleness: TimeInterval?

    /// Creates an empty view that expects the feed from `sequence + 1` on (0 for the whole feed).
    public init(maximumStaleness: TimeInterval? = nil, startingAfter sequence: UInt64 = 0) {
        self.maximumStaleness = maximumStaleness
        state.withLock { $0.lastSequence = sequence }
    }

    /// The highest sequence number up to which every entry has been applied: where a feed resumes.
    public var lastSequence: UInt64 { state.withLock { $0.lastSequence } }

    /// Whether an entry is missing below one that was applied; while so, the view refuses every token.
    public var hasGap: Bool { state.withLock { !$0.ahead.isEmpty } }

    /// How many entries the view holds.
    public var count: Int {
        state.withLock { state in
            state.tasks.count + state.tokens.count + state.workloads.values.reduce(0) { $0 + $1.count }
                + state.users.values.reduce(0) { $0 + $1.count } + state.cutoffs.count + state.keys.count
                + state.lifts.count
        }
    }

    /// Records revocations. Every entry not applied before takes effect at once (revoking early is safe);
    /// entries already applied are ignored, so a resumed feed cannot rewind. An entry that arrives past a
    /// missing one leaves a gap, and until the gap is filled the view refuses every token.
    public func apply(_ revocations: [Revocation]) {
        state.withLock { state in
            for revocation in revocations.sorted(by: { $0.sequence < $1.sequence }) {
                let sequence = revocation.sequence
                guard sequence > state.lastSequence, !state.ahead.contains(sequence) else { continue }
                switch revocation.subject {
                case .task(let id): state.tasks[id] = revocation
                case .token(let id): state.tokens[id] = revocation
                case .workload(let workload): state.workloads[workload, default: []].append(revocation)
                case .user(let user): state.users[user, default: []].append(revocation)
                case .issuedBefore: state.cutoffs.append(revocation)
                case .key(let kid): state.keys[kid] = revocation
                case .lift(let entry, let from):
                    state.lifted[entry] = from
                    state.lifts.append(revocation)
                }
                if sequence == state.lastSequence + 1 {
                    state.lastSequence = sequence
                    while state.ahead.remove(state.lastSequence + 1) != nil { state.lastSequence += 1 }
                } else {
                    state.ahead.insert(sequence)
                }
            }
        }
    }

    /// Moves past entries the feed no longer holds: the broker drops an entry only once every token it
    /// covers has expired, so entries up to `sequence` that the view never saw cannot matter. Used when a
    /// page says the feed now starts after them.
    public func skip(through sequence: UInt64) {
        state.withLock { state in
            guard sequence > state.lastSequence else { return }
            state.lastSequence = sequence
            state.ahead = state.ahead.filter { $0 > sequence }
            while state.ahead.remove(state.lastSequence + 1) != nil { state.lastSequence += 1 }
        }
    }

    /// Notes that the view is complete as of `date` (an event or heartbeat from the broker).
    public func markSynced(at date: Date) {
        state.withLock { $0.lastHeard = date }
    }

    /// Drops entries whose covered tokens have all expired.
    public func prune(now: Date) {
        state.withLock { state in
            state.tasks = state.tasks.filter { $0.value.retainUntil > now }
            state.tokens = state.tokens.filter { $0.value.retainUntil > now }
            state.workloads = state.workloads.compactMapValues { entries in
                let kept = entries.filter { $0.retainUntil > now }
                return kept.isEmpty ? nil : kept
            }
            state.users = state.users.compactMapValues { entries in
                let kept = entries.filter { $0.retainUntil > now }
                return kept.isEmpty ? nil : kept
            }
            state.cutoffs.removeAll { $0.retainUntil <= now }
            state.keys = state.keys.filter { $0.value.retainUntil > now }
            state.lifts.removeAll { $0.retainUntil <= now }
            // A lift is forgotten with its own entry, never before: one applied ahead of what it lifts (across a
            // gap) must still hold when that entry arrives.
            var standing = Set<UInt64>()
            for lift in state.lifts { if case .lift(let entry, _) = lift.subject { standing.insert(entry) } }
            state.lifted = state.lifted.filter { standing.contains($0.key) }
        }
    }

    public func status(of claims: AccessTokenClaims, now: Date) -> RevocationStatus {
        state.withLock { $0.status(of: claims, now: now, maximumStaleness: maximumStaleness) }
    }

    /// The key's retirement, then the token's status, under one lock: what a verifier asks of every token.
    public func status(of claims: AccessTokenClaims, signedBy kid: String, now: Date) -> RevocationStatus {
        state.withLock { state in
            // A retired key is refused first, stale view or not, as `retirement(ofKey:)` then `status` would.
            if !state.keys.isEmpty, let entry = state.keys[kid] { return .revoked(entry) }
            return state.status(of: claims, now: now, maximumStaleness: maximumStaleness)
        }
    }

    /// The feed entry that retired a signing key, if one did: a verifier following the feed refuses every
    /// token signed by it, whatever its key set still holds.
    public func retirement(ofKey kid: String) -> Revocation? {
        state.withLock { $0.keys[kid] }
    }

    /// The workload entries that stand now (kept, never lifted), of one workload or of every one, oldest first.
    public func standingWorkloadEntries(of workload: SPIFFEID? = nil, now: Date) -> [Revocation] {
        state.withLock { state in
            let entries = workload.map { state.workloads[$0] ?? [] } ?? state.workloads.values.flatMap { $0 }
            return entries.filter { $0.retainUntil > now && state.lifted[$0.sequence] == nil }
                .sorted { $0.sequence < $1.sequence }
        }
    }

    /// From when a lifted workload or user entry no longer covers new tokens; nil when it was not lifted.
    public func liftedFrom(_ sequence: UInt64) -> Date? {
        state.withLock { $0.lifted[sequence] }
    }
}

extension InMemoryRevocationView.State {
    /// Whether the view can vouch for a token, and whether an entry covers it.
    func status(of claims: AccessTokenClaims, now: Date, maximumStaleness: TimeInterval?) -> RevocationStatus {
        if let maximumStaleness {
            guard let lastHeard, now.timeIntervalSince(lastHeard) <= maximumStaleness else {
                return .stale(lastHeard: lastHeard)
            }
        }
        if !ahead.isEmpty { return .stale(lastHeard: lastHeard) }
        // Each index is asked only when it holds something: an empty one would still hash the key.
        if !tokens.isEmpty, let entry = tokens[claims.tokenID] { return .revoked(entry) }
        if !tasks.isEmpty, let entry = tasks[claims.taskID] { return .revoked(entry) }
        if !workloads.isEmpty {
            if let entry = covering(workloads[claims.clientID], claims) { return .revoked(entry) }
            for actor in claims.actorChain {
                if let entry = covering(workloads[actor], claims) { return .revoked(entry) }
            }
        }
        if !users.isEmpty, claims.hasUser, let entry = covering(users[claims.subject], claims) {
            return .revoked(entry)
        }
        for entry in cutoffs where entry.covers(claims) { return .revoked(entry) }
        return .notRevoked
    }

    /// The first of a workload's or user's entries that covers a token: an entry lifted since covers only the
    /// tokens issued before its lift.
    func covering(_ entries: [Revocation]?, _ claims: AccessTokenClaims) -> Revocation? {
        entries?.first { entry in
            guard let from = lifted[entry.sequence] else { return true }
            return claims.issuedAt < from
        }
    }
}
