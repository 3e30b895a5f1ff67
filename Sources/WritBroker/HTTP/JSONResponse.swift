import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import WritAPI
public import WritToken

/// Builds JSON responses with the project's own writer (sorted keys, no escaping surprises).
public enum JSONResponse {
    /// A JSON response.
    public static func make(
        _ value: JSONValue,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        // Nothing is cached unless its route says how long (the JWKS and SPIFFE bundle do).
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(value)))
        )
    }

    /// The response for an error: its status, its JSON body, and `Retry-After` or `WWW-Authenticate` where due.
    public static func make(_ error: BrokerError) -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let nonce = error.dpopNonce { headers[HTTPField.Name("DPoP-Nonce")!] = nonce }
        if error.code == .unauthenticated {
            headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        }
        return make(error.wire.json, status: error.code.status, headers: headers)
    }
}
