public import Foundation
import Logging
import Synchronization
public import WritAPI
import WritToken

extension SignalService {
    // MARK: - Polling (RFC 8936)

    /// Acknowledges events, then returns up to `maximumEvents` the receiver has not acknowledged, oldest first:
    /// verification events, then one per feed entry that concerns the receiver. Without `returnImmediately` a
    /// poll that finds nothing waits up to ``longPoll`` for an entry. A paused stream keeps its events; a
    /// disabled one sends none.
    public func poll(
        _ id: String,
        _ request: PollRequest,
        receiver: String,
        audiences: [String]
    ) async throws(BrokerError) -> PollResponse {
        let stream = try await stream(id, receiver: receiver)
        guard stream.delivery == .poll else {
            throw BrokerError(.invalidRequest, "this stream pushes its events: poll a poll stream")
        }
        let limit = Int(min(max(request.maximumEvents ?? Int64(Self.maximumEventsPerPoll), 0), 100))
        try await acknowledge(request.acknowledged, on: stream, audiences: audiences)
        guard stream.status == .enabled, limit > 0 else { return PollResponse(events: [:], moreAvailable: false) }
        var answer = try await pending(stream.id, audiences: audiences, limit: limit)
        // A long tail of entries for other audiences is read a bounded stretch at a time.
        for _ in 0..<8 where answer.events.isEmpty && answer.moreAvailable {
            answer = try await pending(stream.id, audiences: audiences, limit: limit)
        }
        if answer.events.isEmpty, request.returnImmediately != true {
            let deadline = ContinuousClock.now + Self.longPoll
            var seen = feed.lastSequence
            while answer.events.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                guard feed.lastSequence != seen || verifications[stream.id]?.isEmpty == false else { continue }
                seen = feed.lastSequence
                answer = try await pending(stream.id, audiences: audiences, limit: limit)
            }
        }
        return answer
    }

    /// Drops acknowledged verification events and moves the cursor over every entry that is acknowledged or
    /// concerns no audience of the receiver, up to the first that is neither.
    func acknowledge(
        _ acknowledged: [String],
        on stream: SignalStream,
        audiences: [String]
    ) async throws(BrokerError) {
        guard !acknowledged.isEmpty else { return }
        let acks = Set(acknowledged)
        verifications[stream.id]?.removeAll { acks.contains($0.jti) }
        let prefix = stream.id + "."
        let sequences = Set(acknowledged.compactMap { $0.hasPrefix(prefix) ? UInt64($0.dropFirst(prefix.count)) : nil })
        guard let highest = sequences.max(), highest > stream.cursor else { return }
        var cursor = stream.cursor
        scan: while cursor < highest {
            let entries = try await entries(after: cursor, limit: 500)
            guard !entries.isEmpty else { break }
            for entry in entries {
                guard entry.sequence <= highest else { break scan }
                if !sequences.contains(entry.sequence),
                    try await event(for: entry, on: stream, audiences: audiences) != nil
                {
                    break scan
                }
                cursor = entry.sequence
            }
        }
        guard cursor > stream.cursor else { return }
        let moved = cursor
        _ = try await db("acknowledge signal events") { try await store.advance(id: stream.id, to: moved) }
    }

    /// The events waiting for a stream after its cursor, oldest first, with whether more wait. Entries before
    /// the first event concern the receiver not at all, so the cursor moves past them and the next poll does
    /// not read them again.
    nonisolated func waiting(
        _ id: String,
        audiences: [String],
        limit: Int
    ) async throws(BrokerError) -> (events: [PendingEvent], more: Bool) {
        let stream = try await db("read signal stream") { try await store.fetch(id: id) }
        guard let stream else { throw BrokerError(.notFound, "no such stream") }
        var events = await pendingVerifications(id).prefix(limit).map {
            PendingEvent(jti: $0.jti, sequence: nil, token: $0.event)
        }
        var cursor = stream.cursor
        var skipped = stream.cursor
        var found = false
        var more = false
        var scanned = 0
        // At most `maximumScan` entries are read per call: past them, or once `limit` events are found, the
        // answer says more may wait (the next call goes on from the cursor, which has moved past every entry
        // that concerns the receiver not at all).
        scan: while events.count < limit {
            let entries = try await entries(after: cursor, limit: 200)
            guard !entries.isEmpty else { break }
            for entry in entries {
                guard events.count < limit, scanned < Self.maximumScan else {
                    more = true
                    break scan
                }
                scanned += 1
                cursor = entry.sequence
                guard let event = try await event(for: entry, on: stream, audiences: audiences) else {
                    if !found { skipped = entry.sequence }
                    continue
                }
                found = true
                events.append(PendingEvent(jti: event.jti, sequence: entry.sequence, token: event.token))
            }
        }
        if events.count >= limit { more = true }
        if skipped > stream.cursor {
            let through = skipped
            _ = try await db("skip signal events") { try await store.advance(id: id, to: through) }
        }
        return (events, more)
    }

    func pendingVerifications(_ id: String) -> [(jti: String, event: String)] { verifications[id] ?? [] }

    func pending(_ id: String, audiences: [String], limit: Int) async throws(BrokerError) -> PollResponse {
        let (events, more) = try await waiting(id, audiences: audiences, limit: limit)
        var sets: [String: String] = [:]
        for event in events { sets[event.jti] = event.token }
        return PollResponse(events: sets, moreAvailable: more)
    }

    /// A pushed event was taken by its receiver (or refused for good): the stream is done with it.
    func delivered(_ event: PendingEvent, on id: String) async throws(BrokerError) {
        guard let sequence = event.sequence else {
            verifications[id]?.removeAll { $0.jti == event.jti }
            return
        }
        _ = try await db("acknowledge signal events") { try await store.advance(id: id, to: sequence) }
    }

    nonisolated func entries(after cursor: UInt64, limit: Int) async throws(BrokerError) -> [Revocation] {
        try await db("read the feed") { try await revocations.list(after: cursor, limit: limit) }
    }
}
