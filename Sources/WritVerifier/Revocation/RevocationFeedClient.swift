public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
import WritAPI
public import WritToken

/// Keeps an ``InMemoryRevocationView`` current by following the broker's revocation feed: the Server-Sent
/// Events stream, resumed from the view's last sequence number (`Last-Event-ID`), with paged polling to
/// catch up after a gap, before each reconnect, and whenever the stream is down. Every complete event or
/// heartbeat marks the view synced; when the broker goes quiet for longer than the view's staleness bound,
/// the view refuses every token until the client catches up.
///
/// The stream is read with bounded memory: a line or an event beyond its limit is a protocol error that
/// drops the stream; the client then catches up by paging and reconnects after its backoff.
public struct RevocationFeedClient: Service {
    /// Where and how to follow the feed.
    public struct Configuration: Sendable {
        /// The broker's base URL (its issuer).
        public var broker: String
        /// How long the stream may go without a complete event, heartbeat or comment before it is dropped and
        /// re-opened. Bytes that never complete one do not count: a peer trickling an endless line is dropped.
        public var silence: Duration = .seconds(10)
        /// The pause before re-opening a dropped stream; doubles up to `maximumBackoff`.
        public var reconnectDelay: Duration = .milliseconds(500)
        /// The longest pause between reconnects.
        public var maximumBackoff: Duration = .seconds(10)
        /// Entries per page when polling.
        public var pageSize = 1000
        /// How long a page request may take, connection attempts included.
        public var requestTimeout: Duration = .seconds(15)
        /// The longest stream line accepted, in bytes; a longer one drops the stream. The broker's lines are
        /// a few hundred bytes.
        public var maximumLineBytes = 64 << 10
        /// The largest stream event accepted (its field lines together), in bytes; a larger one drops the stream.
        public var maximumEventBytes = 1 << 20
        /// The largest page accepted when polling, in bytes.
        public var maximumPageBytes = 32 << 20
        /// What the client presents to the broker: the resource server's own workload identity (a JWT-SVID)
        /// or an operator token with the `introspect` role. Without one the broker refuses the feed (401).
        public var credential: FeedCredential?

        /// A configuration for a broker.
        public init(broker: String) {
            var base = broker
            while base.hasSuffix("/") { base.removeLast() }
            self.broker = base
        }
    }

    /// The configuration.
    public let configuration: Configuration
    /// The view kept current.
    public let view: InMemoryRevocationView
    let client: HTTPClient
    let clock: any WritClock
    let logger: Logger

    /// A client keeping `view` current.
    public init(
        configuration: Configuration,
        view: InMemoryRevocationView,
        client: HTTPClient = .shared,
        clock: any WritClock = SystemClock(),
        logger: Logger = Logger(label: "writ.revocation-feed")
    ) {
        self.configuration = configuration
        self.view = view
        self.client = client
        self.clock = clock
        self.logger = logger
    }

    /// Follows the feed until cancelled or shut down, then returns normally: a service that threw its
    /// cancellation would end the whole service group with an error.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await followUntilCancelled() }
    }

    private func followUntilCancelled() async {
        var backoff = configuration.reconnectDelay
        while !Task.isCancelled {
            do {
                try await catchUp()
                try await follow()
                backoff = configuration.reconnectDelay
            } catch {
                if Task.isCancelled { return }
                logger.warning("revocation feed interrupted", metadata: ["error": "\(error)"])
                if let error = error as? FeedError, error.code == .oversizedEvent || error.code == .malformedFeed {
                    // The stream misbehaves but paging may not: catch up now, not after the pause, so the view
                    // stays synced while the stream is down.
                    do {
                        try await catchUp()
                    } catch {
                        if Task.isCancelled { return }
                        logger.warning("revocation feed catch-up failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return
            }
            backoff = min(backoff * 2, configuration.maximumBackoff)
        }
    }

    /// Polls pages until the view holds every entry the broker has; marks the view synced when it does.
    public func catchUp() async throws {
        while true {
            let after = view.lastSequence
            let page = try await fetchPage(after: after)
            if let first = page.first, first > after + 1 {
                // Entries between were dropped by the broker because every token they covered expired.
                view.skip(through: first - 1)
            }
            view.apply(page.entries)
            if page.entries.isEmpty, page.last > view.lastSequence {
                // The feed ends beyond what it still holds: the rest was pruned.
                view.skip(through: page.last)
            }
            if !page.hasMore {
                let now = clock.now
                if !view.hasGap { view.markSynced(at: now) }
                view.prune(now: now)
                return
            }
        }
    }

    struct Page {
        let entries: [Revocation]
        let first: UInt64?
        let last: UInt64
        let hasMore: Bool
    }

    func fetchPage(after sequence: UInt64) async throws -> Page {
        let query = RevocationPageQuery(after: sequence, limit: UInt64(max(configuration.pageSize, 1)))
        let request = try await request("/v1/revocations" + query.query)
        let (seconds, attoseconds) = configuration.requestTimeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await client.execute(request, timeout: timeout)
        guard response.status == .ok else { throw FeedError.refused("the feed answered \(response.status.code)") }
        let body = try await response.body.collect(upTo: configuration.maximumPageBytes)
        let page: RevocationPageResponse
        do {
            page = try RevocationPageResponse(responseBody: Array(buffer: body))
        } catch {
            throw FeedError.malformedFeed("the feed page is malformed: \(error)")
        }
        return Page(
            entries: page.revocations,
            first: page.first.map { UInt64(max($0, 0)) },
            last: UInt64(max(page.last, 0)),
            hasMore: page.hasMore
        )
    }

    /// Every request to the feed, paged or streamed, is built here, so what the broker requires of a caller
    /// is added in one place.
    func request(_ pathAndQuery: String) async throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.broker + pathAndQuery)
        if let credential = configuration.credential {
            // A resource server's credential is also its workload identity: never over plain http to another
            // machine.
            switch PlainHTTPPolicy.verdict(for: configuration.broker) {
            case .encrypted, .loopback: break
            case .plainToOtherHost(let host):
                throw FeedError.refused("the broker \(host) is plain http; the credential goes only over https")
            case .refused(let refusal):
                throw FeedError.refused("the broker URL is refused: \(refusal)")
            }
            request.headers.add(name: "Authorization", value: "Bearer \(try await credential.bearer())")
        }
        return request
    }

    /// Reads the stream until it ends, goes without a complete message for longer than
    /// ``Configuration/silence`` (a watchdog then cancels the read), or fails.
    func follow() async throws {
        let heard = LastHeard()
        let silence = configuration.silence
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await read(heard) }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    if heard.elapsed > silence { throw FeedError.silentStream("the stream was silent for \(silence)") }
                }
            }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }

    private func read(_ heard: LastHeard) async throws {
        var request = try await request("/v1/revocations/stream")
        request.headers.add(name: RevocationStream.lastEventIDHeader, value: String(view.lastSequence))
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await client.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else { throw FeedError.refused("the stream answered \(response.status.code)") }
        var parser = ServerSentEvents(
            limits: .init(
                maximumLineBytes: configuration.maximumLineBytes,
                maximumEventBytes: configuration.maximumEventBytes
            )
        )
        for try await chunk in response.body {
            for message in try parser.feed(chunk.readableBytesView) {
                // Only a complete message shows the broker alive; raw bytes that never finish one must not
                // keep the stream open.
                heard.now()
                if case .event(let event) = message { try await handle(event) }
            }
        }
    }

    private func handle(_ event: ServerSentEvents.Event) async throws {
        switch event.name {
        case RevocationStream.revocationEvent:
            let entry: Revocation
            do {
                entry = try Revocation(responseBody: Array(event.data.utf8))
            } catch {
                throw FeedError.malformedFeed("a revocation event is malformed: \(error)")
            }
            view.apply([entry])
            if view.hasGap {
                try await catchUp()
            } else {
                view.markSynced(at: clock.now)
            }
        case RevocationStream.heartbeatEvent:
            // A heartbeat that cannot be read still shows the broker alive; it then proves nothing about the
            // feed's end, so the view is caught up rather than trusted.
            let heartbeat = try? RevocationHeartbeat(responseBody: Array(event.data.utf8))
            if let heartbeat, UInt64(max(heartbeat.last, 0)) <= view.lastSequence, !view.hasGap {
                view.markSynced(at: clock.now)
            } else {
                try await catchUp()
            }
        default:
            return
        }
    }
}

/// When the stream last delivered a complete message.
final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    func now() { instant.withLock { $0 = .now } }
    var elapsed: Duration { instant.withLock { ContinuousClock.now - $0 } }
}

/// A feed failure; the client logs it and retries.
public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code for the kind of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The broker answered a feed request with a status other than 200; check the broker URL and its log.
        public static let refused = Code(rawValue: "feed_refused")
        /// A page or event was not what the broker sends; check that the URL is a Writ broker.
        public static let malformedFeed = Code(rawValue: "feed_malformed")
        /// A stream line or event exceeded its limit; the stream was dropped and the client pages instead.
        public static let oversizedEvent = Code(rawValue: "feed_event_oversized")
        /// The stream delivered no complete message within the silence bound; it was re-opened.
        public static let silentStream = Code(rawValue: "feed_silent")
    }

    /// What kind of failure.
    public let code: Code
    /// What went wrong.
    public let reason: String

    public var description: String { "\(code): \(reason)" }

    /// Feed errors are equal when their codes are.
    public static func == (lhs: FeedError, rhs: FeedError) -> Bool { lhs.code == rhs.code }

    static func refused(_ reason: String) -> FeedError { FeedError(code: .refused, reason: reason) }
    static func malformedFeed(_ reason: String) -> FeedError { FeedError(code: .malformedFeed, reason: reason) }
    static func oversizedEvent(_ reason: String) -> FeedError { FeedError(code: .oversizedEvent, reason: reason) }
    static func silentStream(_ reason: String) -> FeedError { FeedError(code: .silentStream, reason: reason) }
}
