import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import WritToken

/// Delivers push streams' events (RFC 8935): each event is posted to its receiver's endpoint as
/// `application/secevent+jwt`, with the stream's Authorization header, in feed order. A `202` (any 2xx) or a
/// `400` with an RFC 8935 error (the receiver refuses that event for good, logged) moves the stream on; any other
/// answer, or none, is retried after 1 s, doubling to a minute, from the same event. Streams are served
/// concurrently, each by a task of its own and in order, so a slow receiver holds up only its own stream; redirects
/// are not followed.
///
/// The events are read from the revocation feed after the stream's cursor, 50 at a time: the queue of a stream
/// is the feed itself, bounded by its retention and never held in memory whole. Where several brokers share a
/// database, only the leader pushes.
struct SignalPusher: Service {
    let broker: Broker
    let logger: Logger

    static let batch = 50
    static let firstRetry: Duration = .seconds(1)
    static let longestRetry: Duration = .seconds(60)

    func run() async throws {
        // A client of its own: receivers may share a host, so more connections per host than the shared
        // client's eight.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
        await cancelWhenGracefulShutdown { await loop(client) }
        try? await client.shutdown()
    }

    private func loop(_ client: HTTPClient) async {
        let retries = Retries()
        var seen = UInt64.max
        var lastPass = ContinuousClock.now - .seconds(10)
        // The push streams are read from the store at most once a second; a feed entry wakes only those known.
        var known: [SignalStream] = []
        var listed = ContinuousClock.now - .seconds(10)
        // Each stream is delivered by a task of its own that the loop does not wait for, so a slow receiver holds
        // up only its own stream; a stream still being delivered is not started again.
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let moved = broker.feed.lastSequence != seen
                let due = ContinuousClock.now - lastPass >= .seconds(1) || retries.anyDue
                if moved || due, broker.stores.leadership?.isLeader ?? true {
                    seen = broker.feed.lastSequence
                    lastPass = ContinuousClock.now
                    if ContinuousClock.now - listed >= .seconds(1) {
                        known = await streams()
                        listed = ContinuousClock.now
                    }
                    for stream in known where retries.isDue(stream.id) && retries.start(stream.id) {
                        group.addTask {
                            await deliver(stream, retries, client)
                            retries.finished(stream.id)
                        }
                    }
                }
                // Comparing the feed's last number is all a quiet loop costs.
                try? await Task.sleep(for: .milliseconds(5))
            }
            group.cancelAll()
        }
    }

    /// The enabled push streams.
    private func streams() async -> [SignalStream] {
        do {
            return try await broker.stores.signals.list(delivery: .push).filter { $0.status == .enabled }
        } catch {
            logger.warning("push streams not read", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Delivers a stream's waiting events in order until none is left or one cannot be delivered now.
    private func deliver(_ stream: SignalStream, _ retries: Retries, _ client: HTTPClient) async {
        let audiences = (try? SPIFFEID(stream.receiver)).map { broker.settings.resourceServers.audiences(servedBy: $0) }
        do {
            while true {
                let (events, more) = try await broker.signals.waiting(
                    stream.id,
                    audiences: audiences ?? [],
                    limit: Self.batch
                )
                for event in events {
                    switch await post(event.token, to: stream, client) {
                    case .accepted:
                        break
                    case .refused(let code):
                        logger.warning(
                            "a receiver refused a security event",
                            metadata: ["stream": "\(stream.id)", "jti": "\(event.jti)", "err": "\(code)"]
                        )
                    case .failed(let reason):
                        let delay = retries.failed(stream.id)
                        logger.notice(
                            "a security event could not be pushed; retrying",
                            metadata: ["stream": "\(stream.id)", "reason": "\(reason)", "retry_in": "\(delay)"]
                        )
                        return
                    }
                    try await broker.signals.delivered(event, on: stream.id)
                }
                retries.succeeded(stream.id)
                guard more else { return }
            }
        } catch {
            _ = retries.failed(stream.id)
            logger.warning("push stream not served", metadata: ["stream": "\(stream.id)", "error": "\(error)"])
        }
    }

    enum Delivery: Sendable {
        case accepted
        case refused(String)
        case failed(String)
    }

    /// Posts one event (RFC 8935 §2).
    func post(_ event: String, to stream: SignalStream, _ client: HTTPClient) async -> Delivery {
        var request = HTTPClientRequest(url: stream.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/secevent+jwt")
        request.headers.add(name: "Accept", value: "application/json")
        if let authorization = stream.authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(string: event))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .accepted
            case 400:
                let error = (try? StrictJSON().parse(bytes: Array(buffer: body)))?.objectValue?["err"]?.stringValue
                return error.map { .refused(String($0.prefix(64))) } ?? .failed("400 without an RFC 8935 error")
            default: return .failed("answered \(response.status.code)")
            }
        } catch {
            return .failed("\(error)")
        }
    }

    /// When each failing stream may be tried again, and which streams are being delivered.
    final class Retries: @unchecked Sendable {
        private let lock = NSLock()
        private var waits: [String: (until: ContinuousClock.Instant, delay: Duration)] = [:]
        private var running: Set<String> = []

        /// Marks a stream as being delivered; false when it already is.
        func start(_ id: String) -> Bool { lock.withLock { running.insert(id).inserted } }

        func finished(_ id: String) { lock.withLock { _ = running.remove(id) } }

        var anyDue: Bool {
            lock.withLock { waits.values.contains { $0.until <= .now } }
        }

        func isDue(_ id: String) -> Bool {
            lock.withLock { (waits[id]?.until ?? .now) <= .now }
        }

        func failed(_ id: String) -> Duration {
            lock.withLock {
                let delay = waits[id].map { min($0.delay * 2, SignalPusher.longestRetry) } ?? SignalPusher.firstRetry
                waits[id] = (.now + delay, delay)
                return delay
            }
        }

        func succeeded(_ id: String) {
            lock.withLock { _ = waits.removeValue(forKey: id) }
        }
    }
}
