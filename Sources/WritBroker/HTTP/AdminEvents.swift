import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WritAPI
import WritToken

/// The admin event stream: every alert the monitoring rules raise, on any broker sharing the store, as
/// Server-Sent Events. Resumes after `Last-Event-ID` (or `?after=`, an alert number), sends every alert since in
/// order, then each new one at the broker's next tick (a second), and a `heartbeat` on ticks with nothing new.
///
///     id: 7
///     event: alert
///     data: {"id":7,"rule":"retrieval-probing-outside-grant","response":"quarantine_workload",…}
///
///     event: heartbeat
///     data: {"last":7,"time":1764547200}
struct AdminEvents {
    let broker: Broker

    func response(for request: Request, caller: Caller) async throws(BrokerError) -> Response {
        let resume = try BrokerRoutes.resumePoint(request)
        let start = Int64(clamping: resume)
        let broker = self.broker
        // The store answers before the stream opens, so a failure is a plain error response; a resume point past
        // the newest alert is refused, as the revocation stream refuses one past its feed.
        let newest = try await broker.monitoring.highestAlertNumber()
        guard start <= newest else {
            throw BrokerError(
                .invalidRequest,
                "no alert is numbered \(resume) yet (the newest is \(newest)); resume from at most \(newest), or 0"
            )
        }
        // The feed's ticks pace the stream; its streams are counted apart from the caller's revocation streams.
        let stream = TickedEventStream<Int64>(
            broker: broker,
            caller: caller,
            kind: "events ",
            instead: "poll /v1/admin/monitor instead"
        )
        return try stream.response(
            from: start,
            send: { last, writer in try await Self.send(after: last, broker: broker, writer: &writer) },
            heartbeat: { last in Self.heartbeat(last: last, broker: broker) }
        )
    }

    /// Sends every alert numbered after `id`; returns the last number sent.
    private static func send(
        after id: Int64,
        broker: Broker,
        writer: inout any ResponseBodyWriter
    ) async throws
        -> Int64
    {
        var last = id
        while true {
            let page = try await broker.monitoring.alerts(after: last, limit: 500)
            guard !page.isEmpty else { return last }
            var buffer = ByteBuffer()
            for alert in page {
                let data = JSONWriter.string(alert.wire.json)
                buffer.writeString("id: \(alert.id)\nevent: \(AdminEventStream.alertEvent)\ndata: \(data)\n\n")
                last = alert.id
            }
            try await writer.write(buffer)
        }
    }

    private static func heartbeat(last: Int64, broker: Broker) -> ByteBuffer {
        let data = JSONWriter.string(RevocationHeartbeat(last: last, time: broker.clock.now.numericDate).json)
        return ByteBuffer(string: "event: \(AdminEventStream.heartbeatEvent)\ndata: \(data)\n\n")
    }
}
