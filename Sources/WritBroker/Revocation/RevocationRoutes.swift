import Foundation
import HTTPTypes
import Hummingbird
import WritAPI
import WritToken

/// The feed (a page, and the live stream), an operator's revocations and lifts, and RFC 7009 for holders.
enum RevocationRoutes {
    /// The largest page of the feed.
    static let maximumPage: UInt64 = 1000

    static func page(_ call: RouteCall) async throws -> Response {
        let query = try call.query(RevocationPageQuery.self)
        let limit = min(try RouteCall.check(query.limit, name: "limit", in: 1...1000) ?? 500, maximumPage)
        let page = try await call.broker.revocations.page(after: query.after ?? 0, limit: Int(limit))
        return JSONResponse.make(
            RevocationPageResponse(
                revocations: page.entries,
                first: page.first.map { Int64($0) },
                last: Int64(page.last),
                hasMore: (page.entries.last?.sequence ?? page.last) < page.last,
                time: call.broker.clock.now.numericDate
            ).json
        )
    }

    static func stream(_ call: RouteCall) async throws -> Response {
        try await RevocationStream(broker: call.broker).response(for: call.request, caller: call.caller)
    }

    static func revoke(_ call: RouteCall) async throws -> Response {
        let subject = try RevocationSubject(try await call.body(WritAPI.RevocationRequest.self))
        let outcome = try await call.broker.revocations.revoke(subject, by: call.caller.auditName)
        return JSONResponse.make(outcome.wire.json, status: .created)
    }

    static func lift(_ call: RouteCall) async throws -> Response {
        guard let text = call.context.parameters.get("seq"), let sequence = try RouteCall.number(text, name: "seq"),
            sequence > 0
        else { throw BrokerError(.notFound, "no such entry") }
        let reason = try await call.body(RevocationLiftRequest.self).reason
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.utf8.count <= 1024 else {
            throw BrokerError(.invalidRequest, "send {\"reason\": \"why the revocation was a mistake\"}")
        }
        let lift = try await call.broker.revocations.lift(sequence, reason: reason, by: call.caller.auditName)
        return JSONResponse.make(lift.wire.json, status: lift.isNew ? .created : .ok)
    }

    static func holderRevoke(_ call: RouteCall) async throws -> Response {
        guard case .workload(let identity) = call.caller else {
            throw BrokerError(.forbidden, "only workloads use RFC 7009")
        }
        let form = try await call.form(TokenRevocationRequest.self)
        try call.authenticatesOnce(formAssertion: form.clientAssertion != nil)
        // RFC 7009 §2.1: the hint may be ignored; only access tokens exist here.
        try await call.broker.revocations.revokeOwnToken(form.token, by: identity)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }
}
