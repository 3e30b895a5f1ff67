public import Foundation
import GRDB
import Prometheus
import Synchronization
public import WritToken
public import WritVerifier

/// The broker's side of the revocation feed: an in-memory view of every retained entry (used to refuse new
/// tokens that would be born revoked, and by introspection), and the subscribers of the live stream.
///
/// The database is the feed's only source of truth. After each revocation commits, ``catchUp()`` reads
/// every entry after the view's last sequence number, so entries reach the view in order and without gaps
/// however many writers committed at once; subscribers are told the new last number and read the entries
/// themselves from the database.
public final class RevocationFeed: Sendable {
    /// Every retained entry, applied in order.
    public let view: InMemoryRevocationView
    private let database: BrokerDatabase
    private let subscribers = Mutex<[Int: AsyncStream<UInt64>.Continuation]>([:])
    private let nextSubscriber = Atomic<Int>(0)
    private let metrics: BrokerMetrics

    /// A feed over a database; loads every retained entry.
    public init(database: BrokerDatabase, metrics: BrokerMetrics, now: Date) throws {
        self.database = database
        self.metrics = metrics
        let (first, last) = try database.pool.read { db in
            (try RevocationStore.firstSequence(db), try RevocationStore.lastSequence(db))
        }
        // Entries before the first stored one were pruned because every token they cover expired.
        self.view = InMemoryRevocationView(maximumStaleness: nil, startingAfter: (first ?? last + 1) - 1)
        var after = view.lastSequence
        while true {
            let page = try database.pool.read { db in try RevocationStore.list(db, after: after, limit: 10_000) }
            view.apply(page)
            guard let end = page.last?.sequence, page.count == 10_000 else { break }
            after = end
        }
        view.prune(now: now)
    }

    /// The last sequence number applied.
    public var lastSequence: UInt64 { view.lastSequence }

    /// Applies every committed entry after the view's last, then wakes subscribers.
    public func catchUp() async throws {
        while true {
            let after = view.lastSequence
            let entries = try await database.read { db in try RevocationStore.list(db, after: after, limit: 1000) }
            view.apply(entries)
            if entries.count < 1000 { break }
        }
        let last = view.lastSequence
        let continuations = subscribers.withLock { Array($0.values) }
        for continuation in continuations { continuation.yield(last) }
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
    /// Nil when ``maximumSubscribers`` are already connected.
    public func subscribe() -> (id: Int, updates: AsyncStream<UInt64>)? {
        let id = nextSubscriber.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let admitted = subscribers.withLock { subscribers in
            guard subscribers.count < Self.maximumSubscribers else { return false }
            subscribers[id] = continuation
            return true
        }
        guard admitted else { return nil }
        metrics.feedSubscribers.increment()
        return (id, stream)
    }

    /// Ends a subscription.
    public func unsubscribe(_ id: Int) {
        let continuation = subscribers.withLock { $0.removeValue(forKey: id) }
        if let continuation {
            continuation.finish()
            metrics.feedSubscribers.decrement()
        }
    }

    /// Ends every subscription (at shutdown).
    public func finishAll() {
        let all = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
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
