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
        let document = ServerMetadata.document(
            issuer: settings.issuer,
            policies: call.broker.policies,
            mutualTLSBase: settings.mutualTLSBase
        )
        return JSONResponse.make(document.json)
    }

    /// `GET /v1/authorize`: the authorization endpoint the metadata names because common client libraries
    /// need one. It issues nothing and redirects nowhere (no client registers a redirect URI): agents get
    /// tokens at the token endpoint, with their workload identity.
    static func authorize(_ call: RouteCall) async throws -> Response {
        throw BrokerError(
            .unsupportedResponseType,
            "this broker has no interactive authorization: a workload gets tokens at /v1/token with its identity "
                + "JWT (client_credentials with client_assertion, jwt-bearer, or token exchange)"
        )
    }
}
