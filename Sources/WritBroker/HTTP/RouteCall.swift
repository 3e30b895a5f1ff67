import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import WritAPI
import WritToken

/// One request on its way through a route: the broker, the authenticated caller, and the request's parts read
/// the one way every route reads them (bodies bounded and typed, numbers strict, ids bounded).
public struct RouteCall: Sendable {
    /// The broker.
    public let broker: Broker
    /// The request.
    public let request: Request
    /// Its context (peer, client certificates, path parameters).
    public let context: BrokerRequestContext
    /// Who is calling, as the access table's rule for the route admitted them.
    public let caller: Caller
    /// The X.509-SVID the request came with (the mutual-TLS connection's or a trusted proxy's), when any.
    public let certificate: PresentedSVID?
    /// The token endpoint's request, read once by authentication (its `actor_token` is the credential).
    let tokenRequest: TokenRequest?
    /// The form body, when authentication read it for its client assertion.
    let form: [String: String]?
    /// The largest body accepted.
    let maximumBody: Int

    /// Refuses a form that carries a client assertion when the request authenticated otherwise (RFC 6749 §2.3:
    /// one authentication method per request).
    func authenticatesOnce(formAssertion: Bool) throws(BrokerError) {
        if formAssertion, request.headers[.authorization] != nil {
            throw BrokerError(
                .invalidRequest,
                "authenticate once: Authorization or client_assertion, not both"
            )
        }
    }

    /// The task id in the path, or a 404.
    func taskID() throws(BrokerError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.utf8.count <= 128 else {
            throw BrokerError(.notFound, "no such task")
        }
        return id
    }

    /// A query parameter as a strict non-negative integer, optionally within a range.
    func query(_ name: String, in range: ClosedRange<UInt64>? = nil) throws(BrokerError) -> UInt64? {
        let text = request.uri.queryParameters.get(name)
        guard let range else { return try Self.number(text, name: name) }
        return try Self.number(text, name: name, in: range)
    }

    /// The body as a JSON request of a wire type, read strictly (an unknown member is refused by name).
    func body<Body: WireMessage>(_ type: Body.Type, maximum: Int? = nil) async throws -> Body {
        let bytes = try await body(mediaType: "application/json", maximum: maximum)
        do {
            return try Body(requestBody: bytes)
        } catch {
            throw BrokerError(.invalidRequest, error.description)
        }
    }

    /// The body as a form of a wire type.
    func form<Form: WireParameters>(_ type: Form.Type) async throws -> Form {
        let parameters = try await formBody()
        do {
            return try Form(parameters: parameters)
        } catch {
            throw BrokerError(.invalidRequest, error.description)
        }
    }

    /// The query as a wire type.
    func query<Query: WireParameters>(_ type: Query.Type) throws(BrokerError) -> Query {
        var parameters: [String: String] = [:]
        // The first of a repeated name, as every route has always read it.
        for (name, value) in request.uri.queryParameters where parameters[String(name)] == nil {
            parameters[String(name)] = String(value)
        }
        do {
            return try Query(parameters: parameters)
        } catch {
            throw BrokerError(.invalidRequest, error.description)
        }
    }

    /// A number the wire type read, within the range the API document gives, or a 400 naming it.
    static func check(_ value: UInt64?, name: String, in range: ClosedRange<UInt64>) throws(BrokerError) -> UInt64? {
        guard let value else { return nil }
        guard range.contains(value) else {
            throw BrokerError(.invalidRequest, "\(name) must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The body as a form (`application/x-www-form-urlencoded`).
    func formBody() async throws -> [String: String] {
        if let form { return form }
        return try FormBody.parse(try await body(mediaType: "application/x-www-form-urlencoded"))
    }

    /// The body as strict JSON.
    func jsonBody() async throws -> JSONValue {
        let bytes = try await body(mediaType: "application/json")
        do {
            return try StrictJSON(maximumDepth: 16).parse(bytes: bytes)
        } catch {
            throw BrokerError(.invalidRequest, "the body is not strict JSON: \(error.description)")
        }
    }

    /// The body's bytes, when it has the media type and fits; a JSON body holding a NUL character in a string
    /// (`\u0000`) is refused, as no store keeps one the same way (PostgreSQL refuses it) and no member needs one.
    func body(mediaType: String, maximum: Int? = nil) async throws -> [UInt8] {
        let bytes = try await Self.body(of: request, mediaType: mediaType, maximum: maximum ?? maximumBody)
        if mediaType == "application/json", Self.holdsEscapedNUL(bytes) {
            throw BrokerError(.invalidRequest, "a string in the body holds a NUL character (\\u0000); none may")
        }
        return bytes
    }

    /// Whether JSON text holds the escape `\u0000`: escapes are followed one by one, so an escaped backslash
    /// before `u0000` is not one.
    static func holdsEscapedNUL(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
                bytes[(index + 2)...(index + 5)].allSatisfy({ $0 == UInt8(ascii: "0") })
            {
                return true
            }
            index += 2
        }
        return false
    }

    static func body(of request: Request, mediaType: String, maximum: Int) async throws -> [UInt8] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == mediaType else {
            throw BrokerError(.unsupportedMediaType, "send the body as \(mediaType)")
        }
        do {
            return Array(buffer: try await request.body.collect(upTo: maximum))
        } catch {
            throw BrokerError(.payloadTooLarge, "the body is larger than \(maximum) bytes")
        }
    }

    /// A non-negative integer parameter written in decimal digits only (no sign, no spaces), or a 400 naming it.
    static func number(_ text: String?, name: String) throws(BrokerError) -> UInt64? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = UInt64(text)
        else { throw BrokerError(.invalidRequest, "\(name) must be a non-negative integer") }
        return value
    }

    /// An integer parameter within the range the API document gives, or a 400 naming it and the range: a
    /// value outside is refused rather than clamped, so a client learns its request was not served as sent.
    static func number(_ text: String?, name: String, in range: ClosedRange<UInt64>) throws(BrokerError) -> UInt64? {
        guard let value = try number(text, name: name) else { return nil }
        guard range.contains(value) else {
            throw BrokerError(.invalidRequest, "\(name) must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
