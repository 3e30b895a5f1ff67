public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
public import WritToken

/// Keeps an ``InMemoryRevocationView`` current by following the broker's revocation feed: the Server-Sent
/// Events stream, resumed from the view's last sequence number (`Last-Event-ID`), with paged polling to
/// catch up after a gap, before each reconnect, and whenever the stream is down. Every event or heartbeat
/// marks the view synced; when the broker goes quiet for longer than the view's staleness bound, the view
/// refuses every token until the client catches up.
public struct RevocationFeedClient: Service {
    /// Where and how to follow the feed.
    public struct Configuration: Sendable {
        /// The broker's base URL (its issuer).
        public var broker: String
        /// How long the stream may stay silent (no event, no heartbeat) before it is dropped and re-opened.
        public var silence: Duration = .seconds(10)
        /// The pause before re-opening a dropped stream; doubles up to `maximumBackoff`.
        public var reconnectDelay: Duration = .milliseconds(500)
        /// The longest pause between reconnects.
        public var maximumBackoff: Duration = .seconds(10)
        /// Entries per page when polling.
        public var pageSize = 1000
        /// How long a page request may take, connection attempts included.
        public var requestTimeout: Duration = .seconds(15)

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

    /// Follows the feed until cancelled or shut down.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            var backoff = configuration.reconnectDelay
            while !Task.isCancelled {
                do {
                    try await catchUp()
                    try await follow()
                    backoff = configuration.reconnectDelay
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("revocation feed interrupted", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
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
        let url = "\(configuration.broker)/v1/revocations?after=\(sequence)&limit=\(configuration.pageSize)"
        let (seconds, attoseconds) = configuration.requestTimeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: timeout)
        guard response.status == .ok else { throw FeedError("the feed answered \(response.status.code)") }
        let body = try await response.body.collect(upTo: 32 << 20)
        guard let members = try? StrictJSON().parse(bytes: Array(buffer: body)).objectValue,
            let list = members["revocations"]?.arrayValue, let last = members["last"]?.integerValue,
            case .bool(let hasMore) = members["has_more"]
        else { throw FeedError("the feed page is malformed") }
        var entries: [Revocation] = []
        for item in list { entries.append(try Revocation(json: item)) }
        return Page(
            entries: entries,
            first: members["first"]?.integerValue.map { UInt64($0) },
            last: UInt64(max(last, 0)),
            hasMore: hasMore
        )
    }

    /// Reads the stream until it ends, falls silent for longer than ``Configuration/silence`` (a watchdog
    /// then cancels the read), or fails.
    func follow() async throws {
        let heard = LastHeard()
        let silence = configuration.silence
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await read(heard) }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    if heard.elapsed > silence { throw FeedError("the stream was silent for \(silence)") }
                }
            }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }

    private func read(_ heard: LastHeard) async throws {
        var request = HTTPClientRequest(url: "\(configuration.broker)/v1/revocations/stream")
        request.headers.add(name: "Last-Event-ID", value: String(view.lastSequence))
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await client.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else { throw FeedError("the stream answered \(response.status.code)") }
        var parser = ServerSentEvents()
        for try await chunk in response.body {
            heard.now()
            for event in parser.feed(Array(buffer: chunk)) { try await handle(event) }
        }
    }

    private func handle(_ event: ServerSentEvents.Event) async throws {
        switch event.name {
        case "revocation":
            guard let json = try? StrictJSON().parse(event.data) else { throw FeedError("a malformed event") }
            view.apply([try Revocation(json: json)])
            if view.hasGap {
                try await catchUp()
            } else {
                view.markSynced(at: clock.now)
            }
        case "heartbeat":
            let members = (try? StrictJSON().parse(event.data))?.objectValue
            let last = members?["last"]?.integerValue.map { UInt64(max($0, 0)) } ?? 0
            if last > view.lastSequence || view.hasGap {
                try await catchUp()
            } else {
                view.markSynced(at: clock.now)
            }
        default:
            return
        }
    }
}

/// When the stream last delivered bytes.
final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    func now() { instant.withLock { $0 = .now } }
    var elapsed: Duration { instant.withLock { ContinuousClock.now - $0 } }
}

/// A feed failure; the client retries.
public struct FeedError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An incremental Server-Sent Events parser (the subset the broker sends: `id`, `event`, `data` lines,
/// events separated by a blank line, comments ignored).
struct ServerSentEvents {
    struct Event {
        var name = "message"
        var id: String?
        var data = ""
    }

    private var buffer: [UInt8] = []
    private var current = Event()
    private var hasData = false

    /// Feeds bytes; returns the events completed by them.
    mutating func feed(_ bytes: [UInt8]) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty {
                if hasData || current.id != nil { events.append(current) }
                current = Event()
                hasData = false
                continue
            }
            if line.first == UInt8(ascii: ":") { continue }
            let text = String(decoding: line, as: UTF8.self)
            let field: Substring
            var value: Substring = ""
            if let colon = text.firstIndex(of: ":") {
                field = text[..<colon]
                value = text[text.index(after: colon)...]
                if value.first == " " { value = value.dropFirst() }
            } else {
                field = text[...]
            }
            switch field {
            case "event": current.name = String(value)
            case "id": current.id = String(value)
            case "data":
                current.data += hasData ? "\n" + value : String(value)
                hasData = true
            default: break
            }
        }
        return events
    }
}
