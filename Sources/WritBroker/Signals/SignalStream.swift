public import Foundation

/// A Shared Signals stream (OpenID SSF 1.0 §8.1): one receiver, a registered resource server, and what it is
/// sent. Its events are made from the revocation feed, so the stream keeps only how far its receiver has
/// acknowledged the feed: nothing is queued that a restart could lose.
public struct SignalStream: Sendable, Hashable {
    /// How events reach the receiver.
    public enum Delivery: String, Sendable, Hashable {
        /// RFC 8936: the receiver polls the stream's endpoint.
        case poll = "urn:ietf:rfc:8936"
        /// RFC 8935: the broker posts each event to the receiver's endpoint.
        case push = "urn:ietf:rfc:8935"
    }

    /// Whether events are made and sent (SSF 1.0 §8.1.2).
    public enum Status: String, Sendable, Hashable {
        /// Events are made and sent.
        case enabled
        /// Events are kept for the receiver and sent once it is enabled again.
        case paused
        /// No events are made: what happens meanwhile is never sent.
        case disabled
    }

    /// `stream_id`.
    public let id: String
    /// The receiver: the resource server's SPIFFE ID.
    public let receiver: String
    /// `description`, the receiver's words.
    public var description: String?
    /// `events_requested`.
    public var eventsRequested: [String]
    /// `delivery.method`.
    public var delivery: Delivery
    /// `delivery.endpoint_url`: the receiver's for push, the broker's poll endpoint for poll.
    public var endpoint: String
    /// `delivery.authorization_header` for push: sent as the Authorization header. A secret: never logged.
    public var authorization: String?
    /// Whether events flow.
    public var status: Status
    /// Why the status was last set, when said.
    public var statusReason: String?
    /// The last feed entry the stream is done with: acknowledged, or concerning no audience of the receiver.
    public var cursor: UInt64
    /// When it was made.
    public let createdAt: Date

    /// A stream.
    public init(
        id: String,
        receiver: String,
        description: String?,
        eventsRequested: [String],
        delivery: Delivery,
        endpoint: String,
        authorization: String?,
        status: Status,
        statusReason: String?,
        cursor: UInt64,
        createdAt: Date
    ) {
        self.id = id
        self.receiver = receiver
        self.description = description
        self.eventsRequested = eventsRequested
        self.delivery = delivery
        self.endpoint = endpoint
        self.authorization = authorization
        self.status = status
        self.statusReason = statusReason
        self.cursor = cursor
        self.createdAt = createdAt
    }
}

/// Where Shared Signals streams are kept. Every method is one transaction.
public protocol SignalStreamStore: Sendable {
    /// Records a new stream; false when the receiver already has `limit` streams.
    func insert(_ stream: SignalStream, limit: Int) async throws -> Bool
    /// A stream; nil when there is none of that id.
    func fetch(id: String) async throws -> SignalStream?
    /// A receiver's streams, oldest first.
    func list(receiver: String) async throws -> [SignalStream]
    /// Every stream delivered by `delivery`, oldest first.
    func list(delivery: SignalStream.Delivery) async throws -> [SignalStream]
    /// Replaces a stream's configuration and status (not its cursor); false when it is gone.
    func update(_ stream: SignalStream) async throws -> Bool
    /// Moves a stream's cursor forward (never back); false when it is gone.
    func advance(id: String, to cursor: UInt64) async throws -> Bool
    /// Removes a stream; false when there was none.
    func delete(id: String) async throws -> Bool
}
