import Foundation
public import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTPTypes

/// What one listener allows a connection: how long it may sit idle (which bounds how long a request's head may
/// take to arrive, since a partial head is not activity), how long a request may take to arrive once its head
/// has, and how many connections are served at once. A slow or idle client cannot hold a connection, and a
/// flood of them cannot take the file descriptors the broker needs for its database and its other clients.
public struct ConnectionLimits: Sendable, Hashable {
    /// A connection with no request in progress is closed after this long, including one that has sent only
    /// part of a request head.
    public var idleTimeout: Duration = .seconds(30)
    /// A request must arrive whole (head and body) within this long of its head.
    public var requestTimeout: Duration = .seconds(30)
    /// The most connections served at once; further ones wait in the kernel's accept queue until one closes.
    public var maximumConnections: Int = ConnectionLimits.defaultMaximumConnections

    /// Limits with the defaults.
    public init() {}

    /// Three quarters of the process's file-descriptor limit, at most 10,000: the rest stays free for the
    /// database, key files and outgoing connections.
    public static var defaultMaximumConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let available = Int(clamping: min(limit.rlim_cur, 40_000))
        return max(64, min(10_000, available * 3 / 4))
    }

    /// The HTTP/1.1 channel configuration that enforces the timeouts.
    public var http1: HTTP1Channel.Configuration {
        let requestTimeout = self.requestTimeout
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)],
            idleTimeout: Self.amount(idleTimeout)
        )
    }

    /// A duration as NIO's time amount, to the nanosecond.
    static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The connection cap, which logs when it is reached and when it clears.
    public func cap(logger: Logger) -> any AvailableConnectionsDelegate {
        LoggedConnectionCap(maximum: maximumConnections, logger: logger)
    }
}

/// Caps open connections, saying so in the log once each time the cap is reached.
struct LoggedConnectionCap: AvailableConnectionsDelegate {
    let maximum: Int
    let logger: Logger
    var open = 0

    mutating func connectionOpened() {
        open += 1
        if open == maximum {
            logger.warning(
                "connection cap reached; new connections wait until one closes",
                metadata: ["connections": "\(open)", "setting": "limits.max_connections"]
            )
        }
    }

    mutating func connectionClosed() {
        if open == maximum { logger.notice("accepting connections again", metadata: ["connections": "\(open - 1)"]) }
        open -= 1
    }

    func isAcceptingNewConnections() -> Bool { open < maximum }
}

/// Closes a connection whose request does not arrive whole within the timeout of its head: a client that
/// trickles a body cannot hold a connection any more than one that trickles a head.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: Duration
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: ConnectionLimits.amount(timeout)) {
                loopBound.value.close(promise: nil)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
