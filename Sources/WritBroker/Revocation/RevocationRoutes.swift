import Foundation
import HTTPTypes
import Hummingbird
import WritToken

/// The feed (a page, and the live stream), an operator's revocations and lifts, and RFC 7009 for holders.
enum RevocationRoutes {
    /// The largest page of the feed.
    static let maximumPage: UInt64 = 1000

    static func page(_ call: RouteCall) async throws -> Response {
        let after = try call.query("after") ?? 0
        let limit = min(try call.query("limit", in: 1...1000) ?? 500, maximumPage)
        let page = try await call.broker.revocations.page(after: after, limit: Int(max(limit, 1)))
        var body: [String: JSONValue] = [
            "revocations": .array(page.entries.map(\.json)),
            "last": .integer(Int64(page.last)),
            "has_more": .bool((page.entries.last?.sequence ?? page.last) < page.last),
            "time": .integer(call.broker.clock.now.numericDate),
        ]
        body["first"] = page.first.map { .integer(Int64($0)) } ?? .null
        return JSONResponse.make(.object(body))
    }

    static func stream(_ call: RouteCall) async throws -> Response {
        try RevocationStream(broker: call.broker).response(for: call.request, caller: call.caller)
    }

    static func revoke(_ call: RouteCall) async throws -> Response {
        let subject = try RevocationRequest.subject(from: try await call.jsonBody())
        let outcome = try await call.broker.revocations.revoke(subject, by: call.caller.auditName)
        return JSONResponse.make(outcome.json, status: .created)
    }

    static func lift(_ call: RouteCall) async throws -> Response {
        guard let text = call.context.parameters.get("seq"), let sequence = try RouteCall.number(text, name: "seq"),
            sequence > 0
        else { throw BrokerError(.notFound, "no such entry") }
        guard let members = try await call.jsonBody().objectValue, members.keys.allSatisfy({ $0 == "reason" }),
            let reason = members["reason"]?.stringValue,
            !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.utf8.count <= 1024
        else { throw BrokerError(.invalidRequest, "send {\"reason\": \"why the revocation was a mistake\"}") }
        let lift = try await call.broker.revocations.lift(sequence, reason: reason, by: call.caller.auditName)
        return JSONResponse.make(lift.json, status: lift.isNew ? .created : .ok)
    }

    static func holderRevoke(_ call: RouteCall) async throws -> Response {
        guard case .workload(let identity) = call.caller else {
            throw BrokerError(.forbidden, "only workloads use RFC 7009")
        }
        guard let token = try await call.formBody()["token"] else {
            throw BrokerError(.invalidRequest, "token is required")
        }
        // RFC 7009 §2.1: the hint may be ignored; only access tokens exist here.
        try await call.broker.revocations.revokeOwnToken(token, by: identity)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }
}
