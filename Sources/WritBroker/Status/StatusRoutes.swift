import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WritToken

/// The Token Status Lists, served to anyone (a list holds only bits): `application/statuslist+jwt`, cacheable
/// for the list's `ttl`, with an entity tag for conditional requests (RFC 9110 §13.1.2).
enum StatusRoutes {
    static func list(_ call: RouteCall) async throws -> Response {
        guard let id = call.context.parameters.get("id"), !id.isEmpty, id.utf8.count <= 128,
            let list = try await call.broker.statusLists.list(id)
        else {
            throw BrokerError(.notFound, "no such status list; take its URI from a token's status claim")
        }
        var headers: HTTPFields = [
            .cacheControl: "max-age=\(list.timeToLive)",
            .eTag: list.entityTag,
        ]
        if let tags = call.request.headers[.ifNoneMatch], matches(tags, list.entityTag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = StatusListToken.mediaType
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: list.token))
        )
    }

    /// Whether an `If-None-Match` value names the tag (weak comparison, RFC 9110 §13.1.2), or is `*`.
    static func matches(_ header: String, _ tag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            var value = candidate.trimmingCharacters(in: .whitespaces)
            if value == "*" { return true }
            if value.hasPrefix("W/") { value.removeFirst(2) }
            return value == tag
        }
    }
}
