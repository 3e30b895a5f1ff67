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

    let context: BrokerContext
    let store: any SignalStreamStore
    let revocations: any RevocationStore
    let tokens: any TokenStore
    let feed: RevocationFeed
    let keys: KeyService
    var verifications: [String: [(jti: String, event: String)]] = [:]
    let taskAudiences = Mutex<(current: [UInt64: [String]], previous: [UInt64: [String]])>(([:], [:]))

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
