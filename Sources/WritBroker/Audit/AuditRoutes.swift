import Hummingbird
import WritToken

/// The admin API's audit routes: a page or the tail of the log, and the chain's check.
enum AuditRoutes {
    static func entries(_ call: RouteCall) async throws -> Response {
        let audit = call.broker.audit
        let after = try call.query("after") ?? 0
        let limit = try call.query("limit", in: 1...1000) ?? 100
        let entries: [AuditEntry]
        if let last = try call.query("last", in: 0...1000) {
            entries = try await audit.latest(Int(clamping: last))
        } else {
            entries = try await audit.entries(after: Int64(clamping: after), limit: Int(clamping: limit))
        }
        return JSONResponse.make(.object(["entries": .array(entries.map(\.json))]))
    }

    static func verify(_ call: RouteCall) async throws -> Response {
        let query = call.request.uri.queryParameters
        var anchor: AuditLog.Anchor?
        guard (query.get("anchor_seq") == nil) == (query.get("anchor_hash") == nil) else {
            throw BrokerError(.invalidRequest, "send anchor_seq and anchor_hash together")
        }
        if let sequence = try call.query("anchor_seq") {
            guard let hash = query.get("anchor_hash"), hash.utf8.count == 64,
                hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else { throw BrokerError(.invalidRequest, "anchor_hash must be 64 lower-case hex digits") }
            anchor = AuditLog.Anchor(sequence: Int64(clamping: sequence), hash: hash)
        }
        guard case .object(var body) = try await call.broker.audit.verify(against: anchor).json else {
            throw BrokerError(.internalError, "the audit report is malformed")
        }
        // Said back, so a client knows the anchor was checked (an older broker would ignore it).
        if let anchor { body["anchor_seq"] = .integer(anchor.sequence) }
        return JSONResponse.make(.object(body))
    }
}
