import HTTPTypes
import Hummingbird
import WritAPI
import WritToken

/// The token endpoint (RFC 8693 token exchange) and introspection (RFC 7662).
enum TokenRoutes {
    static func token(_ call: RouteCall) async throws -> Response {
        guard case .workload(let identity) = call.caller, let request = call.tokenRequest else {
            throw BrokerError(.invalidRequest, "actor_token (the workload's assertion) is required")
        }
        let proofs = call.request.headers[values: HTTPField.Name("DPoP")!]
        guard proofs.count <= 1 else { throw BrokerError(.invalidDPoPProof, "send at most one DPoP header") }
        let broker = call.broker
        let issued = try await broker.tokens.issue(
            request,
            by: identity,
            dpopProof: proofs.first,
            certificate: call.certificate
        )
        var headers: HTTPFields = [:]
        if broker.settings.requireDPoPNonces {
            headers[HTTPField.Name("DPoP-Nonce")!] = broker.tokens.dpopNonces.current(now: broker.clock.now)
        }
        return JSONResponse.make(issued.wire.json, headers: headers)
    }

    static func introspect(_ call: RouteCall) async throws -> Response {
        let form = try await call.form(IntrospectionRequest.self)
        try call.authenticatesOnce(formAssertion: form.clientAssertion != nil)
        return JSONResponse.make(try await call.broker.tokens.introspect(form.token, for: call.caller).json)
    }
}
