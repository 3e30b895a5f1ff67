public import Foundation
import Synchronization
public import WritAPI
public import WritToken

/// What a verifier allowed and refused, counted per task, token, action, resource and outcome until the next
/// report takes it. Opt-in: give it to ``TokenVerifier`` and run a ``UsageReporter`` beside it.
///
/// Recording never blocks verification on anything but a short lock, and memory is bounded: past
/// `capacity` distinct records, new ones are counted as dropped (and the count reported) rather than kept.
/// Nothing of a token's contents is kept beyond its `txn`, `jti` and `client_id`, and never a request's data.
public final class UsageRecorder: Sendable {
    /// The longest resource identifier kept; longer ones are cut (and marked with a trailing `…`).
    public static let maximumIdentifierLength = 256

    struct Key: Hashable {
        var task: String?
        var token: String?
        var workload: SPIFFEID?
        var action: String?
        var resourceType: String?
        var identifier: String?
        var outcome: String
    }

    struct Tally {
        var count: Int
        var first: Int64
        var last: Int64
    }

    struct State {
        var tallies: [Key: Tally] = [:]
        var dropped = 0
        /// The last key counted and its count, kept out of `tallies` until another key comes: a request
        /// repeating it (the same token for the same thing, as a task's requests often do) is counted without
        /// hashing.
        var last: (key: Key, tally: Tally)?
        /// Whether `last` was repeated since its last second was set: its last second is then the report's.
        var repeated = false

        mutating func flush(at second: Int64? = nil) {
            guard var pending = last else { return }
            if repeated, let second { pending.tally.last = max(pending.tally.last, second) }
            last = nil
            repeated = false
            UsageRecorder.merge(pending.key, pending.tally, into: &self)
        }
    }

    /// The audience the verifier checks tokens for; reports name it.
    public let audience: String
    /// The most distinct records kept between two reports.
    public let capacity: Int
    private let state = Mutex(State())

    /// A recorder for a verifier of `audience`, keeping at most `capacity` distinct records between reports.
    public init(audience: String, capacity: Int = 10_000) {
        self.audience = audience
        self.capacity = max(1, min(capacity, UsageReport.maximumRecords))
    }

    /// Records an allowed use.
    public func allowed(_ access: VerifiedAccess, _ action: String, on resource: Resource, at now: Date) {
        add(Self.key(access.claims, action, resource, outcome: UsageRecord.allowed), count: 1, at: now)
    }

    /// Records an allowed use, reading the clock only for a use other than the last one: a task's repeated
    /// requests cost a comparison (their last second is then the next report's).
    public func allowed(_ access: VerifiedAccess, _ action: String, on resource: Resource, clock: any WritClock) {
        let claims = access.claims
        let repeated = state.withLock { state -> Bool in
            // Compared in place, so a repeated use copies nothing.
            guard state.last?.key.token == claims.tokenID, state.last?.key.outcome == UsageRecord.allowed,
                state.last?.key.action == action, state.last?.key.identifier == resource.identifier,
                state.last?.key.resourceType == resource.type, state.last?.key.task == claims.taskID,
                state.last?.key.workload == claims.clientID
            else { return false }
            if state.last!.tally.count < 1 << 30 { state.last!.tally.count += 1 }
            state.repeated = true
            return true
        }
        if !repeated { allowed(access, action, on: resource, at: clock.now) }
    }

    /// Records a refusal, with what is known of the token and of what it was used for.
    public func refused(
        _ code: VerificationError.Code,
        claims: AccessTokenClaims?,
        action: String? = nil,
        on resource: Resource? = nil,
        at now: Date
    ) {
        add(Self.key(claims, action, resource, outcome: code.rawValue), count: 1, at: now)
    }

    /// How many distinct records wait for the next report.
    public var pending: Int {
        state.withLock { state in
            guard let last = state.last, state.tallies[last.key] == nil else { return state.tallies.count }
            return state.tallies.count + 1
        }
    }

    /// Takes every record and the dropped count, leaving the recorder empty.
    public func take() -> UsageReport {
        let second = Int64(Date().timeIntervalSince1970.rounded(.down))
        let taken = state.withLock { state in
            state.flush(at: second)
            defer { state = State() }
            return state
        }
        let records = taken.tallies.map { key, tally in
            UsageRecord(
                task: key.task,
                token: key.token,
                workload: key.workload?.description,
                action: key.action,
                resourceType: key.resourceType,
                identifier: key.identifier,
                outcome: key.outcome,
                count: tally.count,
                first: tally.first,
                last: tally.last
            )
        }
        return UsageReport(audience: audience, records: records, dropped: taken.dropped)
    }

    /// Puts a report that could not be sent back, merged with what was recorded since; what no longer fits the
    /// capacity is counted as dropped.
    public func restore(_ report: UsageReport) {
        state.withLock { state in
            state.flush()
            state.dropped = Self.sum(state.dropped, report.dropped)
            for record in report.records {
                let key = Key(
                    task: record.task,
                    token: record.token,
                    workload: record.workload.flatMap { try? SPIFFEID($0) },
                    action: record.action,
                    resourceType: record.resourceType,
                    identifier: record.identifier,
                    outcome: record.outcome
                )
                if state.tallies[key] == nil, state.tallies.count >= capacity {
                    state.dropped = Self.sum(state.dropped, record.count)
                    continue
                }
                Self.merge(key, Tally(count: record.count, first: record.first, last: record.last), into: &state)
            }
        }
    }

    /// Counts records that were lost (a report the broker refused for good).
    public func drop(_ count: Int) {
        state.withLock { $0.dropped = Self.sum($0.dropped, count) }
    }

    private func add(_ key: Key, count: Int, at now: Date) {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        state.withLock { state in
            if let last = state.last, last.key == key {
                state.last?.tally.count = Self.sum(last.tally.count, count)
                state.last?.tally.last = max(last.tally.last, second)
                return
            }
            // The pending key takes a place too (it may be one already in `tallies`: then one place is kept free).
            if state.tallies[key] == nil, state.tallies.count + (state.last == nil ? 0 : 1) >= capacity {
                state.dropped = Self.sum(state.dropped, count)
                return
            }
            state.flush()
            state.last = (key, Tally(count: count, first: second, last: second))
        }
    }

    /// A sum that stops at the largest count a record may carry rather than overflowing.
    public static func sum(_ first: Int, _ second: Int) -> Int { min(first &+ second, 1 << 30) }

    fileprivate static func merge(_ key: Key, _ tally: Tally, into state: inout State) {
        if var known = state.tallies[key] {
            known.count = sum(known.count, tally.count)
            known.first = min(known.first, tally.first)
            known.last = max(known.last, tally.last)
            state.tallies[key] = known
        } else {
            state.tallies[key] = tally
        }
    }

    private static func key(
        _ claims: AccessTokenClaims?,
        _ action: String?,
        _ resource: Resource?,
        outcome: String
    )
        -> Key
    {
        var identifier = resource?.identifier
        if let text = identifier, text.utf8.count > maximumIdentifierLength {
            identifier = String(text.prefix(maximumIdentifierLength - 1)) + "…"
        }
        return Key(
            task: claims?.taskID,
            token: claims?.tokenID,
            workload: claims?.clientID,
            action: action,
            resourceType: resource?.type,
            identifier: identifier,
            outcome: outcome
        )
    }
}
