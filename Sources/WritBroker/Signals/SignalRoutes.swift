import HTTPTypes
import Hummingbird
import WritAPI
import WritPolicy
import WritToken

/// The Shared Signals transmitter's routes (OpenID SSF 1.0 §7–8, RFC 8936): its metadata for anyone, stream
/// management and polling for registered resource servers, each on its own streams only.
enum SignalRoutes {
    static func configuration(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(call.broker.signals.configuration.json)
    }

    static func create(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        let request = try await call.body(StreamConfigurationRequest.self)
        let stream = try await call.broker.signals.create(request, receiver: receiver)
        return JSONResponse.make(call.broker.signals.wire(stream).json, status: .created)
    }

    static func read(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        let signals = call.broker.signals
        guard let id = try call.query(StreamQuery.self).streamID else {
            return JSONResponse.make(StreamList(try await signals.streams(receiver: receiver).map(signals.wire)).json)
        }
        return JSONResponse.make(signals.wire(try await signals.stream(id, receiver: receiver)).json)
    }

    static func patch(_ call: RouteCall) async throws -> Response { try await update(call, replacing: false) }

    static func replace(_ call: RouteCall) async throws -> Response { try await update(call, replacing: true) }

    private static func update(_ call: RouteCall, replacing: Bool) async throws -> Response {
        let (receiver, _) = try receiver(call)
        let request = try await call.body(StreamConfigurationRequest.self)
        let stream = try await call.broker.signals.update(request, receiver: receiver, replacing: replacing)
        return JSONResponse.make(call.broker.signals.wire(stream).json)
    }

    static func delete(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        guard let id = try call.query(StreamQuery.self).streamID else {
            throw BrokerError(.invalidRequest, "stream_id is required")
        }
        try await call.broker.signals.delete(id, receiver: receiver)
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    static func status(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        guard let id = try call.query(StreamQuery.self).streamID else {
            throw BrokerError(.invalidRequest, "stream_id is required")
        }
        let stream = try await call.broker.signals.stream(id, receiver: receiver)
        return JSONResponse.make(Self.status(of: stream).json)
    }

    static func setStatus(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        let request = try await call.body(StreamStatus.self)
        let stream = try await call.broker.signals.setStatus(request, receiver: receiver)
        return JSONResponse.make(Self.status(of: stream).json)
    }

    static func verify(_ call: RouteCall) async throws -> Response {
        let (receiver, _) = try receiver(call)
        try await call.broker.signals.verify(try await call.body(StreamVerificationRequest.self), receiver: receiver)
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    static func poll(_ call: RouteCall) async throws -> Response {
        let (receiver, audiences) = try receiver(call)
        guard let id = call.context.parameters.get("id"), !id.isEmpty, id.utf8.count <= 128 else {
            throw BrokerError(.notFound, "no such stream")
        }
        let request = try await call.body(PollRequest.self)
        let answer = try await call.broker.signals.poll(id, request, receiver: receiver, audiences: audiences)
        return JSONResponse.make(answer.json)
    }

    /// RFC 8935: a configured transmitter posts one Security Event Token (its signature authenticates it).
    /// Accepted events are answered 202 with no body; a refused one 400 with RFC 8935's `err` and
    /// `description` beside the broker's own `error` and `error_description`.
    static func receive(_ call: RouteCall) async throws -> Response {
        let body = try await call.body(mediaType: "application/secevent+jwt")
        do {
            _ = try await call.broker.signalReceiver.receive(String(decoding: body, as: UTF8.self))
            return Response(status: .accepted, headers: [.cacheControl: "no-store"])
        } catch let refusal as SignalReceiver.Refusal {
            let error = BrokerError(.invalidRequest, refusal.description)
            guard case .object(var members) = error.wire.json else { return JSONResponse.make(error) }
            members["err"] = .string(refusal.code)
            members["description"] = .string(refusal.description)
            return JSONResponse.make(.object(members), status: .badRequest, headers: [.contentLanguage: "en"])
        }
    }

    private static func status(of stream: SignalStream) -> StreamStatus {
        StreamStatus(streamID: stream.id, status: stream.status.rawValue, reason: stream.statusReason)
    }

    /// The receiver: the calling resource server's SPIFFE ID and the audiences it serves.
    private static func receiver(_ call: RouteCall) throws(BrokerError) -> (String, [String]) {
        guard case .resourceServer(let identity, let audiences) = call.caller else {
            throw BrokerError(.forbidden, "only registered resource servers receive signals")
        }
        return (identity.id.description, audiences)
    }
}
