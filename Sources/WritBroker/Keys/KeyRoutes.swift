import Hummingbird
import WritToken

/// The published keys (JWKS and SPIFFE bundle) and the admin API's key routes.
enum KeyRoutes {
    static func jwks(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(call.broker.keys.current.published.json, headers: [.cacheControl: "max-age=60"])
    }

    static func spiffeBundle(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(ServerMetadata.spiffeBundle(call.broker.keys.current), headers: [.cacheControl: "max-age=60"])
    }

    static func list(_ call: RouteCall) async throws -> Response {
        let broker = call.broker
        let (records, activeID) = try await broker.keys.records()
        let now = broker.clock.now
        return JSONResponse.make(
            .object([
                "keys": .array(records.map { $0.json(activeID: activeID, now: now) }),
                "active": .string(activeID), "publish_lead": .integer(Int64(broker.settings.tokens.keyPublishLead)),
            ])
        )
    }

    static func rotate(_ call: RouteCall) async throws -> Response {
        let flag = call.request.uri.queryParameters.get("immediately")
        guard flag == nil || flag == "true" || flag == "false" else {
            throw BrokerError(.invalidRequest, "immediately must be true or false")
        }
        let rotation = try await call.broker.keys.rotate(by: call.caller.auditName, immediately: flag == "true")
        return JSONResponse.make(rotation.json, status: .created)
    }
}
