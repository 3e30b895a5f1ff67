public import WritToken

/// `GET /.well-known/ssf-configuration` (OpenID SSF 1.0 §7.1): the broker as a Shared Signals transmitter.
public struct TransmitterConfiguration: WireMessage {
    /// `spec_version`: `1_0`.
    public var specVersion: String
    /// `issuer`: the broker's issuer URL, the `iss` of every event.
    public var issuer: String
    /// `jwks_uri`: the keys events are signed with.
    public var jwksURI: String
    /// `delivery_methods_supported`.
    public var deliveryMethods: [String]
    /// `configuration_endpoint`.
    public var configurationEndpoint: String
    /// `status_endpoint`.
    public var statusEndpoint: String
    /// `verification_endpoint`.
    public var verificationEndpoint: String
    /// `authorization_schemes`: the receiver authenticates with its workload identity.
    public var authorizationSchemes: [String]

    /// A configuration.
    public init(
        issuer: String,
        jwksURI: String,
        deliveryMethods: [String],
        configurationEndpoint: String,
        statusEndpoint: String,
        verificationEndpoint: String,
        authorizationSchemes: [String],
        specVersion: String = "1_0"
    ) {
        self.specVersion = specVersion
        self.issuer = issuer
        self.jwksURI = jwksURI
        self.deliveryMethods = deliveryMethods
        self.configurationEndpoint = configurationEndpoint
        self.statusEndpoint = statusEndpoint
        self.verificationEndpoint = verificationEndpoint
        self.authorizationSchemes = authorizationSchemes
    }

    /// Reads a configuration.
    public init(from object: WireObject) throws(WireError) {
        specVersion = try object.string("spec_version")
        issuer = try object.string("issuer")
        jwksURI = try object.string("jwks_uri")
        deliveryMethods = try object.strings("delivery_methods_supported")
        configurationEndpoint = try object.string("configuration_endpoint")
        statusEndpoint = try object.string("status_endpoint")
        verificationEndpoint = try object.string("verification_endpoint")
        guard case .array(let schemes)? = object.member("authorization_schemes") else {
            throw .wrongType(at: object.child("authorization_schemes"), expected: "an array")
        }
        var urns: [String] = []
        for scheme in schemes {
            guard let urn = scheme.objectValue?["spec_urn"]?.stringValue else {
                throw .wrongType(at: object.child("authorization_schemes"), expected: "objects with a spec_urn")
            }
            urns.append(urn)
        }
        authorizationSchemes = urns
    }

    /// The configuration as JSON.
    public var json: JSONValue {
        .object([
            "spec_version": .string(specVersion),
            "issuer": .string(issuer),
            "jwks_uri": .string(jwksURI),
            "delivery_methods_supported": .array(deliveryMethods.map(JSONValue.string)),
            "configuration_endpoint": .string(configurationEndpoint),
            "status_endpoint": .string(statusEndpoint),
            "verification_endpoint": .string(verificationEndpoint),
            "authorization_schemes": .array(authorizationSchemes.map { .object(["spec_urn": .string($0)]) }),
        ])
    }
}

/// A stream's `delivery` (SSF 1.0 §8.1.1): the method and, for poll, the broker's endpoint to poll.
public struct StreamDelivery: WireMessage {
    /// `method`: `urn:ietf:rfc:8936` (poll) or `urn:ietf:rfc:8935` (push).
    public var method: String
    /// `endpoint_url`: the poll endpoint (the broker's), or the receiver's push endpoint.
    public var endpointURL: String?
    /// `authorization_header`: for push, the Authorization header the broker sends with every event. The
    /// receiver sends it; the broker never shows it again.
    public var authorizationHeader: String?

    /// A delivery.
    public init(method: String, endpointURL: String? = nil, authorizationHeader: String? = nil) {
        self.method = method
        self.endpointURL = endpointURL
        self.authorizationHeader = authorizationHeader
    }

    /// Reads a delivery.
    public init(from object: WireObject) throws(WireError) {
        method = try object.string("method")
        endpointURL = try object.optionalString("endpoint_url")
        authorizationHeader = try object.optionalString("authorization_header")
    }

    /// The delivery as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["method": .string(method)]
        if let endpointURL { members["endpoint_url"] = .string(endpointURL) }
        if let authorizationHeader { members["authorization_header"] = .string(authorizationHeader) }
        return .object(members)
    }
}

/// What a receiver sends to create or change a stream (SSF 1.0 §8.1.1): the events it wants, how they are
/// delivered, and a description. Everything else in a stream is the broker's.
public struct StreamConfigurationRequest: WireMessage {
    /// `stream_id`, to change a stream (PATCH, PUT); absent to create one.
    public var streamID: String?
    /// `events_requested`.
    public var eventsRequested: [String]?
    /// `delivery`.
    public var delivery: StreamDelivery?
    /// `description`.
    public var description: String?

    /// A request.
    public init(
        streamID: String? = nil,
        eventsRequested: [String]? = nil,
        delivery: StreamDelivery? = nil,
        description: String? = nil
    ) {
        self.streamID = streamID
        self.eventsRequested = eventsRequested
        self.delivery = delivery
        self.description = description
    }

    /// Reads a request.
    public init(from object: WireObject) throws(WireError) {
        streamID = try object.optionalString("stream_id")
        eventsRequested = try object.optionalStrings("events_requested")
        delivery = try object.optionalValue("delivery")
        description = try object.optionalString("description")
    }

    /// The request as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        if let streamID { members["stream_id"] = .string(streamID) }
        if let eventsRequested { members["events_requested"] = .array(eventsRequested.map(JSONValue.string)) }
        if let delivery { members["delivery"] = delivery.json }
        if let description { members["description"] = .string(description) }
        return .object(members)
    }
}

/// A stream as the broker reports it (SSF 1.0 §8.1.1).
public struct StreamConfiguration: WireMessage {
    /// `stream_id`.
    public var streamID: String
    /// `iss`: the broker.
    public var issuer: String
    /// `aud`: the receiver (its SPIFFE ID).
    public var audience: String
    /// `events_supported`.
    public var eventsSupported: [String]
    /// `events_requested`.
    public var eventsRequested: [String]
    /// `events_delivered`: those requested that the broker sends.
    public var eventsDelivered: [String]
    /// `delivery`.
    public var delivery: StreamDelivery
    /// `min_verification_interval`, seconds.
    public var minimumVerificationInterval: Int64
    /// `description`.
    public var description: String?

    /// A stream's configuration.
    public init(
        streamID: String,
        issuer: String,
        audience: String,
        eventsSupported: [String],
        eventsRequested: [String],
        eventsDelivered: [String],
        delivery: StreamDelivery,
        minimumVerificationInterval: Int64,
        description: String?
    ) {
        self.streamID = streamID
        self.issuer = issuer
        self.audience = audience
        self.eventsSupported = eventsSupported
        self.eventsRequested = eventsRequested
        self.eventsDelivered = eventsDelivered
        self.delivery = delivery
        self.minimumVerificationInterval = minimumVerificationInterval
        self.description = description
    }

    /// Reads a configuration.
    public init(from object: WireObject) throws(WireError) {
        streamID = try object.string("stream_id")
        issuer = try object.string("iss")
        audience = try object.string("aud")
        eventsSupported = try object.strings("events_supported")
        eventsRequested = try object.strings("events_requested")
        eventsDelivered = try object.strings("events_delivered")
        delivery = try object.value("delivery")
        minimumVerificationInterval = try object.integer("min_verification_interval")
        description = try object.optionalString("description")
    }

    /// The configuration as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "stream_id": .string(streamID),
            "iss": .string(issuer),
            "aud": .string(audience),
            "events_supported": .array(eventsSupported.map(JSONValue.string)),
            "events_requested": .array(eventsRequested.map(JSONValue.string)),
            "events_delivered": .array(eventsDelivered.map(JSONValue.string)),
            "delivery": delivery.json,
            "min_verification_interval": .integer(minimumVerificationInterval),
        ]
        if let description { members["description"] = .string(description) }
        return .object(members)
    }
}

/// `GET /v1/ssf/streams` without `stream_id`: the receiver's streams.
public struct StreamList: WireValue, Hashable {
    /// The streams, oldest first.
    public var streams: [StreamConfiguration]

    /// A list.
    public init(_ streams: [StreamConfiguration]) { self.streams = streams }

    /// Reads a list.
    public init(json: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        guard case .array(let elements) = json else { throw .wrongType(at: path, expected: "an array") }
        var streams: [StreamConfiguration] = []
        for (index, element) in elements.enumerated() {
            streams.append(try StreamConfiguration(json: element, at: "\(path)[\(index)]", mode: mode))
        }
        self.streams = streams
    }

    /// The list as JSON: an array.
    public var json: JSONValue { .array(streams.map(\.json)) }
}

/// A stream's status (SSF 1.0 §8.1.2): read with `GET`, set with `POST`.
public struct StreamStatus: WireMessage {
    /// `stream_id`.
    public var streamID: String
    /// `status`: `enabled`, `paused` or `disabled`.
    public var status: String
    /// `reason`, when given.
    public var reason: String?

    /// A status.
    public init(streamID: String, status: String, reason: String? = nil) {
        self.streamID = streamID
        self.status = status
        self.reason = reason
    }

    /// Reads a status.
    public init(from object: WireObject) throws(WireError) {
        streamID = try object.string("stream_id")
        status = try object.string("status")
        reason = try object.optionalString("reason")
    }

    /// The status as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["stream_id": .string(streamID), "status": .string(status)]
        if let reason { members["reason"] = .string(reason) }
        return .object(members)
    }
}

/// `POST /v1/ssf/verify` (SSF 1.0 §8.1.4): asks for a verification event carrying `state`.
public struct StreamVerificationRequest: WireMessage {
    /// `stream_id`.
    public var streamID: String
    /// `state`, echoed in the verification event.
    public var state: String?

    /// A request.
    public init(streamID: String, state: String? = nil) {
        self.streamID = streamID
        self.state = state
    }

    /// Reads a request.
    public init(from object: WireObject) throws(WireError) {
        streamID = try object.string("stream_id")
        state = try object.optionalString("state")
    }

    /// The request as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["stream_id": .string(streamID)]
        if let state { members["state"] = .string(state) }
        return .object(members)
    }
}

/// A poll (RFC 8936 §2.4): acknowledgements of events received, and how many more to send.
public struct PollRequest: WireMessage {
    /// `ack`: the `jti`s of events received and processed.
    public var acknowledged: [String]
    /// `maxEvents`: at most this many events in the answer; 0 only acknowledges.
    public var maximumEvents: Int64?
    /// `returnImmediately`: answer at once, even with no event; otherwise wait a little for one.
    public var returnImmediately: Bool?
    /// `setErrs`: events the receiver could not process, by `jti`, with `err` and `description`.
    public var errors: JSONValue?

    /// A poll.
    public init(
        acknowledged: [String] = [],
        maximumEvents: Int64? = nil,
        returnImmediately: Bool? = nil,
        errors: JSONValue? = nil
    ) {
        self.acknowledged = acknowledged
        self.maximumEvents = maximumEvents
        self.returnImmediately = returnImmediately
        self.errors = errors
    }

    /// Reads a poll.
    public init(from object: WireObject) throws(WireError) {
        acknowledged = try object.optionalStrings("ack") ?? []
        maximumEvents = try object.optionalInteger("maxEvents")
        returnImmediately = try object.optionalBool("returnImmediately")
        errors = object.member("setErrs") == nil ? nil : try object.object("setErrs")
    }

    /// The poll as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["ack": .array(acknowledged.map(JSONValue.string))]
        if let maximumEvents { members["maxEvents"] = .integer(maximumEvents) }
        if let returnImmediately { members["returnImmediately"] = .bool(returnImmediately) }
        if let errors { members["setErrs"] = errors }
        return .object(members)
    }
}

/// A poll's answer (RFC 8936 §2.5): events by `jti`, and whether more are waiting.
public struct PollResponse: WireMessage {
    /// `sets`: each event's `jti` and the signed event.
    public var events: [String: String]
    /// `moreAvailable`.
    public var moreAvailable: Bool

    /// An answer.
    public init(events: [String: String], moreAvailable: Bool) {
        self.events = events
        self.moreAvailable = moreAvailable
    }

    /// Reads an answer.
    public init(from object: WireObject) throws(WireError) {
        let sets = try object.object("sets")
        var events: [String: String] = [:]
        for (jti, value) in sets.objectValue ?? [:] {
            guard let text = value.stringValue else { throw .wrongType(at: object.child("sets"), expected: "strings") }
            events[jti] = text
        }
        self.events = events
        moreAvailable = try object.optionalBool("moreAvailable") ?? false
    }

    /// The answer as JSON.
    public var json: JSONValue {
        .object([
            "sets": .object(events.mapValues(JSONValue.string)),
            "moreAvailable": .bool(moreAvailable),
        ])
    }
}

/// `GET /v1/ssf/streams` and `GET`/`DELETE` of one stream take it as a query parameter.
public struct StreamQuery: WireParameters {
    /// `stream_id`.
    public var streamID: String?

    /// A query.
    public init(streamID: String? = nil) { self.streamID = streamID }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        if let id = parameters["stream_id"], id.isEmpty || id.utf8.count > 128 {
            throw .invalidValue(at: "stream_id", "must be 1 to 128 characters")
        }
        streamID = parameters["stream_id"]
    }

    /// The query's parameters.
    public var parameters: [(String, String)] { streamID.map { [("stream_id", $0)] } ?? [] }
}
