import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WritToken

/// The revocation feed as Server-Sent Events. Resumes after `Last-Event-ID` (or `?after=`), sends every
/// entry since in order, then each new one as it commits, and a `heartbeat` event whenever the broker's
/// ticker fires, so a verifier can tell a quiet feed from a dead one.
///
///     id: 42
///     event: revocation
///     data: {"kind":"task","id":"tsk_…","seq":42,…}
///
///     event: heartbeat
///     data: {"last":42,"time":1764547200}
struct RevocationStream {
    let broker: Broker

    func response(for request: Request, caller: Caller) async throws(BrokerError) -> Response {
        let start = try BrokerRoutes.resumePoint(request)
        let broker = self.broker
        // A resume point this feed never reached is refused before the stream opens.
        _ = try await broker.revocations.page(after: start, limit: 1)
        let stream = TickedEventStream<UInt64>(
            broker: broker,
            caller: caller,
            kind: "",
            instead: "poll /v1/revocations instead"
        )
        return try stream.response(
            from: start,
            send: { last, writer in try await Self.send(after: last, broker: broker, writer: &writer) },
            heartbeat: { last in Self.heartbeat(last: last, broker: broker) }
        )
    }

    /// Sends every entry after `sequence`, from the feed's shared tail of encoded events, or from the store
    /// when the subscriber is further behind; returns the last sequence sent.
    private static func send(
        after sequence: UInt64,
        broker: Broker,
        writer: inout any ResponseBodyWriter
    ) async throws
        -> UInt64
    {
        var last = sequence
        while true {
            if let (events, through) = broker.feed.events(after: last) {
                if events.readableBytes > 0 { try await writer.write(events) }
                return through
            }
            let page = try await broker.stores.revocations.list(after: last, limit: 500)
            guard !page.isEmpty else { return last }
            var buffer = ByteBuffer()
            for entry in page {
                buffer.writeImmutableBuffer(RevocationFeed.streamEvent(entry))
                last = entry.sequence
            }
            try await writer.write(buffer)
        }
    }

    private static func heartbeat(last: UInt64, broker: Broker) -> ByteBuffer {
        let data = JSONWriter.string(
            .object(["last": .integer(Int64(last)), "time": .integer(broker.clock.now.numericDate)])
        )
        return ByteBuffer(string: "event: heartbeat\ndata: \(data)\n\n")
    }
}
