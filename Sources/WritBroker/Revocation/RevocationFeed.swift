public import Foundation
public import Logging
public import NIOCore
import Prometheus
import Synchronization
public import WritToken
public import WritVerifier

/// The broker's side of the revocation feed: an in-memory view of every retained entry (used to refuse new
/// tokens that would be born revoked, and by introspection), and the subscribers of the live stream.
///
/// The store is the feed's only source of truth. After each revocation commits, ``catchUp()`` reads
/// every entry after the view's last sequence number, so entries reach the view in order and without gaps
/// however many writers committed at once. Each new entry is encoded once, as its stream event, into a tail
/// of recent events that every subscriber shares; subscribers are told the new last number and take the
/// events after their own from that tail, or read them from the store when they are further behind.
public final class RevocationFeed: Sendable {
    /// Every retained entry, applied in order.
    public let view: InMemoryRevocationView
    private let store: any RevocationStore
    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextSubscriber = Atomic<Int>(0)
    private let metrics: BrokerMetrics
    private let recent: Mutex<RecentEvents>

    /// A feed over a store, from what the store held at start. At start it loads only the retained entries that can refuse a token not yet
    /// issued — workload, user, issued-before, key and lift entries — so a restart does not grow with the
    /// feed, most of which is task and token entries; from then on it applies every new entry. Task and token
    /// entries made before the start are read from the store where they matter (introspection); a token being
    /// issued is never covered by one (its task is checked open inside its commit, and its `jti` is new).
    public init(store: any RevocationStore, snapshot: RevocationSnapshot, metrics: BrokerMetrics, now: Date) {
        self.store = store
        self.metrics = metrics
        let (first, last, standing) = (snapshot.first, snapshot.last, snapshot.standing)
        // Entries before the first stored one were pruned because every token they cover expired.
        self.view = InMemoryRevocationView(maximumStaleness: nil, startingAfter: (first ?? last + 1) - 1)
        view.apply(standing)
        view.skip(through: last)
        view.prune(now: now)
        recent = Mutex(RecentEvents(through: last))
    }

    /// Brings the view up to the store and wakes every stream subscriber, logging (not throwing) a failure:
    /// called after each revocation commit and on every tick, so the next call catches up.
    public func publish(logger: Logger) async {
        do {
            try await catchUp()
        } catch {
            logger.error("revocation feed catch-up failed", metadata: ["error": "\(error)"])
        }
    }

    /// Why something is refused while a revocation holds, and until when: a workload or user entry lapses at
    /// its retention time (or sooner if an operator lifts it); an issued-before or lifted one covers only the
    /// rest of its second.
    func refusal(of what: String, by entry: Revocation) -> String {
        let formatter = ISO8601DateFormatter()
        if case .issuedBefore(let cutoff, _) = entry.subject {
            return "revoked by feed entry \(entry.sequence) (issued before); \(what) are refused until "
                + formatter.string(from: cutoff)
        }
        if let from = view.liftedFrom(entry.sequence) {
            return "revoked by feed entry \(entry.sequence), lifted; \(what) are allowed from "
                + formatter.string(from: from)
        }
        if case .workload(let workload) = entry.subject,
            entry.retainUntil.timeIntervalSince(entry.revokedAt) >= RevocationService.quarantineRetention - 1
        {
            return "quarantined by feed entry \(entry.sequence); \(what) are refused until an operator releases it: "
                + "writ quarantine release \(workload) --reason TEXT"
        }
        return "revoked by feed entry \(entry.sequence); \(what) are refused until it lapses at "
            + formatter.string(from: entry.retainUntil) + " (or an operator lifts it: writ revoke lift "
            + "\(entry.sequence))"
    }

    /// The last sequence number applied.
    public var lastSequence: UInt64 { view.lastSequence }

    /// Applies every committed entry after the view's last, then wakes subscribers.
    public func catchUp() async throws {
        while true {
            let after = view.lastSequence
            let page = try await store.page(after: after, limit: 1000)
            // Entries after ours were pruned meanwhile (another broker prunes, where brokers share a store):
            // their tokens have all expired, so the view skips them rather than wait for them forever.
            if let first = page.first, first > after + 1 { view.skip(through: first - 1) }
            view.apply(page.entries)
            let events = page.entries.map { ($0.sequence, Self.streamEvent($0)) }
            recent.withLock { $0.append(events, after: after) }
            if page.entries.count < 1000 { break }
        }
        wake()
    }

    /// Wakes every stream without a new entry (an alert was stored): each sends what is new to it, or a heartbeat.
    public func wake() {
        let last = view.lastSequence
        let continuations = subscribers.withLock { $0.values.map(\.continuation) }
        for continuation in continuations { continuation.yield(last) }
    }

    /// The stream events of every entry after `sequence`, as one buffer, and the number they reach; nil when
    /// `sequence` is older than the shared tail of recent events (the caller reads the store instead).
    public func events(after sequence: UInt64) -> (events: ByteBuffer, through: UInt64)? {
        // The events are taken under the lock (references to shared buffers), joined outside it.
        guard let (events, through) = recent.withLock({ $0.events(after: sequence) }) else { return nil }
        guard events.count > 1 else { return (events.first ?? ByteBuffer(), through) }
        var joined = ByteBuffer()
        joined.reserveCapacity(events.reduce(0) { $0 + $1.readableBytes })
        for event in events { joined.writeImmutableBuffer(event) }
        return (joined, through)
    }

    /// An entry as a Server-Sent Event: its number as the event id, its JSON as the data.
    public static func streamEvent(_ entry: Revocation) -> ByteBuffer {
        ByteBuffer(string: "id: \(entry.sequence)\nevent: revocation\ndata: \(JSONWriter.string(entry.json))\n\n")
    }

    /// The entry that would make a verifier following the feed refuse a token with these claims, if any.
    /// Throws (fails closed) when the view cannot tell, which happens only if it has a gap.
    public func covers(_ claims: AccessTokenClaims, now: Date) throws(BrokerError) -> Revocation? {
        switch view.status(of: claims, now: now) {
        case .notRevoked: return nil
        case .revoked(let entry): return entry
        case .stale:
            throw BrokerError(.unavailable, "the broker's revocation view is catching up; retry shortly", retryAfter: 1)
        }
    }

    /// The most stream subscribers served at once.
    public static let maximumSubscribers = 1024

    /// A stream of "the feed now ends at N" signals, newest only; finish it with ``unsubscribe(_:)``.
    /// Nil when ``maximumSubscribers`` are already connected, or `owner` already holds `limit` streams.
    public func subscribe(
        owner: String = "",
        limit: Int = RevocationFeed.maximumSubscribers
    ) -> (id: Int, updates: AsyncStream<UInt64>)? {
        let id = nextSubscriber.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let admitted = subscribers.withLock { subscribers in
            guard subscribers.count < Self.maximumSubscribers,
                subscribers.values.lazy.filter({ $0.owner == owner }).count < limit
            else { return false }
            subscribers[id] = Subscriber(owner: owner, continuation: continuation)
            return true
        }
        guard admitted else { return nil }
        metrics.feedSubscribers.increment()
        return (id, stream)
    }

    /// One open stream, and who holds it.
    struct Subscriber: Sendable {
        let owner: String
        let continuation: AsyncStream<UInt64>.Continuation
    }

    public func unsubscribe(_ id: Int) {
        let continuation = subscribers.withLock { $0.removeValue(forKey: id)?.continuation }
        if let continuation {
            continuation.finish()
            metrics.feedSubscribers.decrement()
        }
    }

    /// Ends every subscription (at shutdown).
    public func finishAll() {
        let all = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return subscribers.values.map(\.continuation)
        }
        for continuation in all {
            continuation.finish()
            metrics.feedSubscribers.decrement()
        }
    }

    /// How many streams are following the feed now.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Forgets entries whose tokens have all expired.
    public func prune(now: Date) { view.prune(now: now) }
}

/// The newest stream events, each encoded once. It holds every entry numbered in `(floor, ceiling]` (numbers
/// pruned away have no entry), at most ``capacity`` of them; older ones are read from the store.
struct RecentEvents {
    static let capacity = 4096
    private(set) var floor: UInt64
    private(set) var ceiling: UInt64
    private var held: [(sequence: UInt64, event: ByteBuffer)] = []
    /// Where the held events start in `held` (dropped ones are removed in batches).
    private var start = 0

    init(through last: UInt64) {
        floor = last
        ceiling = last
    }

    /// Adds a page of entries read from the store after `after`. A page that does not join the tail (read
    /// while another catch-up was between its read and its append) starts a new tail at `after`.
    mutating func append(_ events: [(UInt64, ByteBuffer)], after: UInt64) {
        guard !events.isEmpty else { return }
        if after > ceiling {
            held.removeAll(keepingCapacity: true)
            start = 0
            floor = after
            ceiling = after
        }
        for (sequence, event) in events where sequence > ceiling {
            held.append((sequence, event))
            ceiling = sequence
        }
        let excess = held.count - start - Self.capacity
        if excess > 0 {
            start += excess
            floor = held[start - 1].sequence
            if start >= Self.capacity {
                held.removeFirst(start)
                start = 0
            }
        }
    }

    /// The events after `sequence`, and the number they reach; nil when `sequence` is outside the tail.
    func events(after sequence: UInt64) -> (events: ArraySlice<ByteBuffer>, through: UInt64)? {
        guard sequence >= floor, sequence <= ceiling else { return nil }
        // The first held event after `sequence` (numbers ascend).
        var low = start
        var high = held.count
        while low < high {
            let middle = (low + high) / 2
            if held[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
        }
        return (ArraySlice(held[low...].map(\.event)), ceiling)
    }
}
