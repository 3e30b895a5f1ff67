public import Foundation
import Logging
import Synchronization
public import WritAPI
import WritToken

/// An event waiting for a receiver: its `jti`, the feed entry it was made from (nil for a verification event),
/// and the signed event.
struct PendingEvent: Sendable, Hashable {
    let jti: String
    let sequence: UInt64?
    let token: String
}

/// The broker as an OpenID Shared Signals transmitter (SSF 1.0, CAEP 1.0): registered resource servers open
/// streams and poll them (RFC 8936) for Security Event Tokens (RFC 8417) saying which tasks, tokens, workloads
/// and users were revoked.
///
/// A stream's events are made from the revocation feed when it is polled, so the only state a stream keeps is
/// the last feed entry it is done with; an event's `jti` is the stream's id and the entry's sequence number,
/// the same on every poll and at every broker. Each receiver sees only what concerns the audiences it serves:
/// task and token entries for tokens issued to one of them, and every workload and user entry.
public actor SignalService {
    /// CAEP `session-revoked`.
    public static let sessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
    /// SSF `verification`.
    public static let verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
    /// The events a stream can carry.
    public static let eventsSupported = [sessionRevoked, verification]
    /// Streams one receiver may hold.
    public static let streamsPerReceiver = 16
    /// The most events one poll returns.
    public static let maximumEventsPerPoll = 100
    /// How long a poll without `returnImmediately` waits for an event.
    public static let longPoll: Duration = .seconds(10)
    /// Verification events waiting for a receiver, per stream.
    static let verificationBacklog = 16
    /// Feed entries read per poll or push at most.
    static let maximumScan = 2000

    private let context: BrokerContext
    private let store: any SignalStreamStore
    private let revocations: any RevocationStore
    private let tokens: any TokenStore
    private let feed: RevocationFeed
    private let keys: KeyService
    private var verifications: [String: [(jti: String, event: String)]] = [:]
    private let taskAudiences = Mutex<(current: [UInt64: [String]], previous: [UInt64: [String]])>(([:], [:]))

    init(
        context: BrokerContext,
        store: any SignalStreamStore,
        revocations: any RevocationStore,
        tokens: any TokenStore,
        feed: RevocationFeed,
        keys: KeyService
    ) {
        self.context = context
        self.store = store
        self.revocations = revocations
        self.tokens = tokens
        self.feed = feed
        self.keys = keys
    }

    // MARK: - Configuration

    /// The transmitter's metadata.
    public nonisolated var configuration: TransmitterConfiguration {
        let issuer = context.settings.issuer
        return TransmitterConfiguration(
            issuer: issuer,
            jwksURI: issuer + "/.well-known/jwks.json",
            deliveryMethods: [SignalStream.Delivery.poll.rawValue, SignalStream.Delivery.push.rawValue],
            configurationEndpoint: issuer + "/v1/ssf/streams",
            statusEndpoint: issuer + "/v1/ssf/status",
            verificationEndpoint: issuer + "/v1/ssf/verify",
            authorizationSchemes: ["urn:ietf:rfc:6750"]
        )
    }

    /// What the receiver is told of a stream.
    nonisolated func wire(_ stream: SignalStream) -> StreamConfiguration {
        StreamConfiguration(
            streamID: stream.id,
            issuer: context.settings.issuer,
            audience: stream.receiver,
            eventsSupported: Self.eventsSupported,
            eventsRequested: stream.eventsRequested,
            eventsDelivered: stream.eventsRequested.filter { Self.eventsSupported.contains($0) },
            delivery: StreamDelivery(method: stream.delivery.rawValue, endpointURL: stream.endpoint),
            minimumVerificationInterval: 0,
            description: stream.description
        )
    }

    // MARK: - Streams

    /// Opens a stream for a receiver, delivering from the next feed entry on.
    public func create(
        _ request: StreamConfigurationRequest,
        receiver: String
    ) async throws(BrokerError) -> SignalStream {
        guard request.streamID == nil else {
            throw BrokerError(.invalidRequest, "stream_id is the broker's to give: leave it out to create a stream")
        }
        let id = "ssf_" + Base64URL.encode(SecureRandom.bytes(12))
        let delivery = try self.delivery(request.delivery, receiver: receiver)
        let stream = SignalStream(
            id: id,
            receiver: receiver,
            description: try Self.description(request.description),
            eventsRequested: try Self.events(request.eventsRequested ?? Self.eventsSupported),
            delivery: delivery.method,
            endpoint: delivery.endpoint ?? context.settings.issuer + "/v1/ssf/poll/" + id,
            authorization: delivery.authorization,
            status: .enabled,
            statusReason: nil,
            cursor: feed.lastSequence,
            createdAt: context.clock.now
        )
        let limit = Self.streamsPerReceiver
        let inserted = try await db("create signal stream") { try await store.insert(stream, limit: limit) }
        guard inserted else {
            throw BrokerError(.tooManyStreams, "this receiver holds \(limit) streams already: delete one first")
        }
        context.logger.info("signal stream created", metadata: ["stream": "\(id)", "receiver": "\(receiver)"])
        return stream
    }

    /// A receiver's stream; not found when it is another receiver's.
    public func stream(_ id: String, receiver: String) async throws(BrokerError) -> SignalStream {
        let found = try await db("read signal stream") { try await store.fetch(id: id) }
        guard let found, found.receiver == receiver else { throw BrokerError(.notFound, "no such stream") }
        return found
    }

    /// A receiver's streams, oldest first.
    public func streams(receiver: String) async throws(BrokerError) -> [SignalStream] {
        try await db("list signal streams") { try await store.list(receiver: receiver) }
    }

    /// Changes a stream: with `replacing`, members the request leaves out return to their defaults (PUT);
    /// otherwise only the members it carries change (PATCH).
    public func update(
        _ request: StreamConfigurationRequest,
        receiver: String,
        replacing: Bool
    ) async throws(BrokerError) -> SignalStream {
        guard let id = request.streamID else { throw BrokerError(.invalidRequest, "stream_id is required") }
        var stream = try await stream(id, receiver: receiver)
        if replacing || request.eventsRequested != nil {
            stream.eventsRequested = try Self.events(request.eventsRequested ?? Self.eventsSupported)
        }
        if replacing || request.delivery != nil {
            let delivery = try self.delivery(request.delivery, receiver: receiver)
            // A PATCH that leaves the header out keeps it: the receiver cannot read it back to send it again.
            let keeps = !replacing && delivery.method == stream.delivery && request.delivery?.authorizationHeader == nil
            stream.authorization = keeps ? stream.authorization : delivery.authorization
            stream.delivery = delivery.method
            stream.endpoint = delivery.endpoint ?? context.settings.issuer + "/v1/ssf/poll/" + stream.id
        }
        if replacing || request.description != nil { stream.description = try Self.description(request.description) }
        try await save(stream)
        return stream
    }

    /// Removes a receiver's stream.
    public func delete(_ id: String, receiver: String) async throws(BrokerError) {
        _ = try await stream(id, receiver: receiver)
        _ = try await db("delete signal stream") { try await store.delete(id: id) }
        verifications[id] = nil
    }

    /// Sets a stream's status. A stream enabled again after being disabled starts from the feed's present:
    /// what happened while it was disabled is never sent.
    public func setStatus(_ status: StreamStatus, receiver: String) async throws(BrokerError) -> SignalStream {
        guard let next = SignalStream.Status(rawValue: status.status) else {
            throw BrokerError(.invalidRequest, "status must be enabled, paused or disabled")
        }
        var stream = try await stream(status.streamID, receiver: receiver)
        let reason = try Self.description(status.reason)
        if stream.status == .disabled, next != .disabled {
            // Moved while still disabled, so no delivery can send what happened meanwhile.
            let present = feed.lastSequence
            let id = stream.id
            _ = try await db("move signal stream") { try await store.advance(id: id, to: present) }
            stream.cursor = max(stream.cursor, present)
        }
        stream.status = next
        stream.statusReason = reason
        try await save(stream)
        return stream
    }

    /// Queues a verification event for a stream (SSF 1.0 §8.1.4), delivered at its next poll.
    public func verify(_ request: StreamVerificationRequest, receiver: String) async throws(BrokerError) {
        let stream = try await stream(request.streamID, receiver: receiver)
        guard stream.status == .enabled else {
            throw BrokerError(.streamNotEnabled, "the stream is \(stream.status.rawValue): enable it first")
        }
        let state = try Self.description(request.state)
        let jti = stream.id + ".v" + Base64URL.encode(SecureRandom.bytes(9))
        var event: [String: JSONValue] = [:]
        if let state { event["state"] = .string(state) }
        let token = try sign(
            jti: jti,
            stream: stream,
            subject: .object(["format": .string("opaque"), "id": .string(stream.id)]),
            type: Self.verification,
            event: .object(event),
            at: context.clock.now
        )
        var pending = verifications[stream.id] ?? []
        pending.append((jti, token))
        verifications[stream.id] = Array(pending.suffix(Self.verificationBacklog))
    }

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
    private func acknowledge(
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

    private func pendingVerifications(_ id: String) -> [(jti: String, event: String)] { verifications[id] ?? [] }

    private func pending(_ id: String, audiences: [String], limit: Int) async throws(BrokerError) -> PollResponse {
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

    nonisolated private func entries(after cursor: UInt64, limit: Int) async throws(BrokerError) -> [Revocation] {
        try await db("read the feed") { try await revocations.list(after: cursor, limit: limit) }
    }

    // MARK: - Events

    /// The event a feed entry makes for a receiver, or nil when it concerns none of the receiver's audiences
    /// (task and token entries for tokens issued elsewhere) or has no event (key, issued-before and lift
    /// entries; docs/signals.md).
    nonisolated private func event(
        for entry: Revocation,
        on stream: SignalStream,
        audiences: [String]
    ) async throws(BrokerError) -> (jti: String, token: String)? {
        let issuer = context.settings.issuer
        let subject: JSONValue
        var task: String?
        var reason: String
        var initiator = "admin"
        switch entry.subject {
        case .task(let id):
            let issuedTo = try await self.audiences(ofClosedTask: id, entry: entry.sequence)
            guard issuedTo.contains(where: audiences.contains) else { return nil }
            subject = .object([
                "format": .string("complex"), "session": .object(["format": .string("opaque"), "id": .string(id)]),
            ])
            task = id
            reason = "the task ended; every token of it is revoked"
            initiator = "system"
        case .token(let id):
            let record = try await db("read token") { try await tokens.fetch(id: id) }
            guard let record, audiences.contains(record.audience) else { return nil }
            subject = .object(["format": .string("jwt_id"), "iss": .string(issuer), "jti": .string(id)])
            task = record.taskID
            reason = "the token was revoked"
        case .workload(let workload):
            subject = .object([
                "format": .string("complex"),
                "user": .object(["format": .string("uri"), "uri": .string(workload.description)]),
            ])
            reason = "the workload was revoked; every token it holds or acts in is revoked"
        case .user(let user):
            subject = .object([
                "format": .string("complex"), "user": .object(["format": .string("opaque"), "id": .string(user)]),
            ])
            reason = "the user was revoked; every token for the user is revoked"
        case .issuedBefore, .key, .lift:
            return nil
        }
        guard stream.eventsRequested.contains(Self.sessionRevoked) else { return nil }
        let jti = stream.id + "." + String(entry.sequence)
        var claims: [String: JSONValue] = [
            "event_timestamp": .integer(entry.revokedAt.numericDate),
            "initiating_entity": .string(initiator),
            "reason_admin": .object(["en": .string(reason)]),
        ]
        if initiator == "system" { claims["reason_user"] = .object(["en": .string(reason)]) }
        let token = try sign(
            jti: jti,
            stream: stream,
            subject: subject,
            type: Self.sessionRevoked,
            event: .object(claims),
            at: entry.revokedAt,
            task: task
        )
        return (jti, token)
    }

    /// A Security Event Token: `typ: secevent+jwt`, `iss`, `aud` (the receiver), `iat`, `jti`, `sub_id`, one
    /// event, and `txn` (the task) where there is one; never `sub` or `exp` (SSF 1.0 §4).
    nonisolated private func sign(
        jti: String,
        stream: SignalStream,
        subject: JSONValue,
        type: String,
        event: JSONValue,
        at date: Date,
        task: String? = nil
    ) throws(BrokerError) -> String {
        let key = keys.current.active
        var payload: [String: JSONValue] = [
            "iss": .string(context.settings.issuer),
            "aud": .string(stream.receiver),
            "iat": .integer(date.numericDate),
            "jti": .string(jti),
            "sub_id": subject,
            "events": .object([type: event]),
        ]
        if let task { payload["txn"] = .string(task) }
        let header: [String: JSONValue] = [
            "alg": .string(key.algorithm.rawValue), "kid": .string(key.id), "typ": .string("secevent+jwt"),
        ]
        do {
            return try JWSSigner.sign(header: header, payload: .object(payload), with: key.privateKey)
        } catch {
            context.logger.error("signing a security event failed", metadata: ["error": "\(error.code)"])
            throw BrokerError(.internalError, "the event could not be signed")
        }
    }

    /// The audiences a closed task's tokens went to, remembered by feed entry: a task gets no token once closed,
    /// so the answer never changes, and every stream reading the entry asks it.
    nonisolated private func audiences(ofClosedTask id: String, entry: UInt64) async throws(BrokerError) -> [String] {
        if let known = taskAudiences.withLock({ $0.current[entry] ?? $0.previous[entry] }) { return known }
        let found = try await db("read task audiences") { try await tokens.audiences(taskID: id) }
        taskAudiences.withLock { cache in
            // Two generations: when the newer is full it becomes the older, so recent entries stay.
            if cache.current.count >= 4096 { cache = (current: [:], previous: cache.current) }
            cache.current[entry] = found
        }
        return found
    }

    /// A store call, off the actor (stores are their own synchronisation).
    nonisolated private func db<T: Sendable>(
        _ what: String,
        _ body: @Sendable () async throws -> T
    ) async throws(BrokerError) -> T {
        try await context.store(what, body)
    }

    private func save(_ stream: SignalStream) async throws(BrokerError) {
        let saved = try await db("update signal stream") { try await store.update(stream) }
        guard saved else { throw BrokerError(.notFound, "no such stream") }
    }

    // MARK: - Checks

    static func events(_ requested: [String]) throws(BrokerError) -> [String] {
        guard requested.count <= 32, requested.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
            throw BrokerError(.invalidRequest, "events_requested holds at most 32 event type URIs")
        }
        return requested
    }

    /// How a stream delivers: poll at the broker's endpoint (the default), or push to the receiver's endpoint
    /// (https, or plain http on this machine) with its Authorization header.
    nonisolated func delivery(
        _ delivery: StreamDelivery?,
        receiver: String
    ) throws(BrokerError) -> (method: SignalStream.Delivery, endpoint: String?, authorization: String?) {
        guard let delivery else { return (.poll, nil, nil) }
        switch SignalStream.Delivery(rawValue: delivery.method) {
        case .poll?:
            guard delivery.endpointURL == nil, delivery.authorizationHeader == nil else {
                throw BrokerError(.invalidRequest, "delivery.endpoint_url of a poll stream is the broker's to give")
            }
            return (.poll, nil, nil)
        case .push?:
            guard let endpoint = delivery.endpointURL, endpoint.utf8.count <= 2048 else {
                throw BrokerError(.invalidRequest, "a push stream needs delivery.endpoint_url, the receiver's URL")
            }
            switch PlainHTTPPolicy.verdict(for: endpoint) {
            case .encrypted, .loopback: break
            case .plainToOtherHost, .refused:
                throw BrokerError(
                    .invalidRequest,
                    "delivery.endpoint_url must be https (or plain http on this machine), with no userinfo"
                )
            }
            // The broker posts only where the operator allowed this resource server to receive.
            guard let id = try? SPIFFEID(receiver),
                context.settings.resourceServers.allowsPush(to: endpoint, by: id)
            else {
                throw BrokerError(
                    .forbidden,
                    "delivery.endpoint_url is not under this resource server's push_endpoints in the broker's "
                        + "configuration: ask its operator to allow it, or poll"
                )
            }
            if let header = delivery.authorizationHeader,
                header.isEmpty || header.utf8.count > 4096 || header.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
            {
                throw BrokerError(.invalidRequest, "delivery.authorization_header must be 1 to 4,096 visible bytes")
            }
            return (.push, endpoint, delivery.authorizationHeader)
        case nil:
            throw BrokerError(
                .invalidRequest,
                "delivery method \(delivery.method.prefix(64)) is not supported: urn:ietf:rfc:8936 (poll) or "
                    + "urn:ietf:rfc:8935 (push)"
            )
        }
    }

    static func description(_ text: String?) throws(BrokerError) -> String? {
        guard let text else { return nil }
        guard text.utf8.count <= 1024 else { throw BrokerError(.invalidRequest, "at most 1,024 bytes of text") }
        return text
    }
}
