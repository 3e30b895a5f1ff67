import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WritToken

/// How long a Shared Signals event takes to reach push receivers (RFC 8935): `receivers` registered resource
/// servers each create a push stream to an endpoint of this process; each round a task with a token for their
/// audience completes, and the time from the broker's acknowledgement to each receiver's arrival is recorded (after
/// one round not counted, in which the pusher learns of the new streams).
public struct SignalPushBenchmark: Sendable {
    /// The broker's base URL.
    public let broker: String
    /// The load generator's assertion (it owns the tasks).
    public let workloadAssertion: String
    /// Each receiver's assertion (a resource server of `https://bench.example.org`).
    public let receiverAssertions: [String]
    /// Tasks completed.
    public let rounds: Int
    /// The loopback port the receivers listen on (the broker's configuration allows pushes there).
    public let port: Int

    /// A benchmark.
    public init(broker: String, workloadAssertion: String, receiverAssertions: [String], rounds: Int, port: Int) {
        self.broker = broker
        self.workloadAssertion = workloadAssertion
        self.receiverAssertions = receiverAssertions
        self.rounds = rounds
        self.port = port
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// Arrivals: per event `txn`, the moments receivers got it.
    final class Arrivals: Sendable {
        let times = Mutex<[String: [ContinuousClock.Instant]]>([:])

        func record(_ body: String) {
            let now = ContinuousClock.now
            guard let jws = try? CompactJWS(body, maximumLength: 1 << 16),
                let txn = try? jws.payload().objectValue?["txn"]?.stringValue
            else { return }
            times.withLock { $0[txn, default: []].append(now) }
        }

        func count(_ txn: String) -> Int { times.withLock { $0[txn]?.count ?? 0 } }
        func of(_ txn: String) -> [ContinuousClock.Instant] { times.withLock { $0[txn] ?? [] } }
    }

    /// Runs it and returns the report.
    public func run() async throws -> String {
        let arrivals = Arrivals()
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Receiver(arrivals: arrivals))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        let http = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let broker = BenchmarkBroker(base: self.broker, http: http)
        do {
            var streams: [(assertion: String, id: String)] = []
            for (index, assertion) in receiverAssertions.enumerated() {
                let created = try await broker.send(
                    "/v1/ssf/streams",
                    bearer: assertion,
                    json: """
                        {"delivery": {"method": "urn:ietf:rfc:8935", \
                        "endpoint_url": "http://127.0.0.1:\(port)/receiver/\(index)"}}
                        """
                )
                guard let id = created["stream_id"]?.stringValue else { throw Failed(description: "\(created)") }
                streams.append((assertion, id))
            }
            var samples: [Double] = []
            // One round first, not counted: the broker's pusher reads the list of push streams once a second, so a
            // stream just made may wait that long for its first event.
            for round in 0...rounds {
                let (id, _) = try await broker.taskWithToken(workloadAssertion)
                _ = try await broker.send("/v1/tasks/\(id)/complete", bearer: workloadAssertion)
                let acknowledged = ContinuousClock.now
                while arrivals.count(id) < streams.count {
                    guard ContinuousClock.now - acknowledged < .seconds(30) else {
                        throw Failed(description: "\(arrivals.count(id)) of \(streams.count) receivers got the event")
                    }
                    try await Task.sleep(for: .milliseconds(2))
                }
                if round > 0 {
                    samples += arrivals.of(id).map { StatusListReachBenchmark.milliseconds($0 - acknowledged) }
                }
            }
            for stream in streams {
                _ = try? await broker.send(
                    "/v1/ssf/streams?stream_id=\(stream.id)",
                    method: .DELETE,
                    bearer: stream.assertion
                )
            }
            try await http.shutdown()
            try await server.close()
            samples.sort()
            func at(_ fraction: Double) -> Double {
                samples[min(samples.count - 1, Int(Double(samples.count) * fraction))]
            }
            return String(
                format:
                    "push to %d receivers, %d events each: acknowledgement -> arrival  p50 %.1f ms   p99 %.1f ms   max %.1f ms   (target p99 <= 50 ms)",
                streams.count,
                rounds,
                at(0.5),
                at(0.99),
                samples.last ?? 0
            )
        } catch {
            try? await http.shutdown()
            try? await server.close()
            throw error
        }
    }

    /// A push endpoint: records each event's arrival, answers 202.
    final class Receiver: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let arrivals: Arrivals
        let body = Mutex<ByteBuffer>(ByteBuffer())

        init(arrivals: Arrivals) { self.arrivals = arrivals }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: body.withLock { $0.clear() }
            case .body(var chunk): body.withLock { $0.writeBuffer(&chunk) }
            case .end:
                arrivals.record(body.withLock { String(buffer: $0) })
                let head = HTTPResponseHead(
                    version: .http1_1,
                    status: .accepted,
                    headers: ["Content-Length": "0"]
                )
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
