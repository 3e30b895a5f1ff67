import Hummingbird
import WritAPI
import WritToken

/// The admin API's audit routes: a page or the tail of the log, and the chain's check.
enum AuditRoutes {
    static func entries(_ call: RouteCall) async throws -> Response {
        let audit = call.broker.audit
        let query = try call.query(AuditPageQuery.self)
        let limit = try RouteCall.check(query.limit, name: "limit", in: 1...1000) ?? 100
        let entries: [AuditEntry]
        if let last = try RouteCall.check(query.last, name: "last", in: 0...1000) {
            entries = try await audit.latest(Int(clamping: last))
        } else {
            entries = try await audit.entries(after: Int64(clamping: query.after ?? 0), limit: Int(clamping: limit))
        }
        return JSONResponse.make(AuditPageResponse(entries: entries.map(\.wire)).json)
    }

    static func verify(_ call: RouteCall) async throws -> Response {
        let query = try call.query(AuditVerificationQuery.self)
        guard (query.anchorSeq == nil) == (query.anchorHash == nil) else {
            throw BrokerError(.invalidRequest, "send anchor_seq and anchor_hash together")
        }
        var anchor: AuditLog.Anchor?
        if let sequence = query.anchorSeq, let hash = query.anchorHash {
            guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else { throw BrokerError(.invalidRequest, "anchor_hash must be 64 lower-case hex digits") }
            anchor = AuditLog.Anchor(sequence: Int64(clamping: sequence), hash: hash)
        }
        var response = try await call.broker.audit.verify(against: anchor).wire
        // Said back, so a client knows the anchor was checked (an older broker would ignore it).
        response.anchorSeq = anchor?.sequence
        return JSONResponse.make(response.json)
    }
}
