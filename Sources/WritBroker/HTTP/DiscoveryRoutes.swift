import HTTPTypes
import Hummingbird
import NIOCore
import WritAPI
import WritToken

/// Health, metrics and the authorization server's metadata (RFC 8414).
enum DiscoveryRoutes {
    static func health(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(HealthResponse().json)
    }

    static func metrics(_ call: RouteCall) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: call.broker.metrics.render()))
        )
    }

    static func serverMetadata(_ call: RouteCall) async throws -> Response {
        let settings = call.broker.settings
        return JSONResponse.make(
            ServerMetadata.document(issuer: settings.issuer, mutualTLSBase: settings.mutualTLSBase).json
        )
    }
}
