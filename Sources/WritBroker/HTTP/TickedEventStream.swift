import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A Server-Sent Events response paced by the revocation feed's ticks (each new entry, and the broker's
/// one-second ticker): it sends what is new after a position, then on each tick what is new since, or a
/// heartbeat when a tick brings nothing. The feed subscription is released when the stream ends.
struct TickedEventStream<Position: Equatable & Sendable>: Sendable {
    /// Writes what is new after a position; returns the new position.
    typealias Send = @Sendable (Position, inout any ResponseBodyWriter) async throws -> Position

    let broker: Broker
    /// Who holds the stream. An operator revoked meanwhile (by another process too) is sent nothing more: it is
    /// asked after every tenth tick.
    let caller: Caller
    /// Counted apart from the caller's other kinds of stream, for the per-caller limit.
    let kind: String
    /// What to do instead when the limit is reached.
    let instead: String

    func response(
        from start: Position,
        send: @escaping Send,
        heartbeat: @escaping @Sendable (Position) -> ByteBuffer
    ) throws(BrokerError) -> Response {
        let perCaller = broker.settings.limits.streamsPerCaller
        guard let (id, ticks) = broker.feed.subscribe(owner: kind + caller.auditName, limit: perCaller) else {
            throw BrokerError(
                .unavailable,
                "too many streams for this caller (at most \(perCaller)) or in all; \(instead)",
                retryAfter: 5
            )
        }
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        let feed = broker.feed
        let operators = broker.operators
        let revocable: String? = if case .operator(let identity) = caller { identity.id } else { nil }
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                defer { feed.unsubscribe(id) }
                var last = try await send(start, &writer)
                try await writer.write(heartbeat(last))
                var count = 0
                for await _ in ticks {
                    count += 1
                    if count % 10 == 0, let revocable, try await operators.isRevoked(id: revocable) { break }
                    let before = last
                    last = try await send(last, &writer)
                    if last == before { try await writer.write(heartbeat(last)) }
                }
                try await writer.finish(nil)
            }
        )
    }
}
