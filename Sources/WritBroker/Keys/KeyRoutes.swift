import Hummingbird
import WritAPI
import WritToken

/// The published keys (JWKS and SPIFFE bundle) and the admin API's key routes.
enum KeyRoutes {
    static func jwks(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(call.broker.keys.current.published.json, headers: [.cacheControl: "max-age=60"])
    }

    static func spiffeBundle(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(
            ServerMetadata.spiffeBundle(call.broker.keys.current).json,
            headers: [.cacheControl: "max-age=60"]
        )
    }

    static func list(_ call: RouteCall) async throws -> Response {
        let broker = call.broker
        let (records, activeID) = try await broker.keys.records()
        let now = broker.clock.now
        let response = SigningKeyListResponse(
            keys: records.map { $0.wire(activeID: activeID, now: now) },
            active: activeID,
            publishLead: Int64(broker.settings.tokens.keyPublishLead)
        )
        return JSONResponse.make(response.json)
    }

    static func rotate(_ call: RouteCall) async throws -> Response {
        let query = try call.query(KeyRotationQuery.self)
        let rotation = try await call.broker.keys.rotate(
            by: call.caller.auditName,
            immediately: query.immediately ?? false
        )
        return JSONResponse.make(rotation.wire.json, status: .created)
    }
}
