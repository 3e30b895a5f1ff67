import Foundation
import Hummingbird
import WritAPI
import WritPolicy
import WritToken

/// The monitoring routes: usage reports from resource servers, and the operators' view and release.
enum MonitoringRoutes {
    static func report(_ call: RouteCall) async throws -> Response {
        guard case .resourceServer(let identity, let audiences) = call.caller else {
            throw BrokerError(.forbidden, "only registered resource servers report usage")
        }
        let report = try await call.body(UsageReport.self, maximum: MonitoringService.maximumReportBody)
        let accepted = try await call.broker.monitoring.ingest(report, from: identity.id, audiences: audiences)
        return JSONResponse.make(UsageReportResponse(accepted: accepted).json)
    }

    static func monitor(_ call: RouteCall) async throws -> Response {
        let query = try call.query(MonitorQuery.self)
        let limit = Int(try RouteCall.check(query.limit, name: "limit", in: 1...1000) ?? 50)
        try Self.check(workload: query.workload)
        let monitoring = call.broker.monitoring
        let alerts = try await monitoring.alerts(limit: limit, workload: query.workload)
        let quarantines = try await monitoring.quarantines()
        let response = MonitorResponse(alerts: alerts.map(\.wire), quarantines: quarantines.map(\.wire))
        return JSONResponse.make(response.json)
    }

    /// A `workload` filter must be a SPIFFE ID, as `writ monitor --workload` requires.
    static func check(workload: String?) throws(BrokerError) {
        guard let workload else { return }
        guard workload.utf8.count <= 2048 else {
            throw BrokerError(.invalidRequest, "workload is longer than 2048 bytes")
        }
        guard (try? SPIFFEID(workload)) != nil else {
            throw BrokerError(.invalidRequest, "workload must be a SPIFFE ID (spiffe://trust-domain/path)")
        }
    }

    static func events(_ call: RouteCall) async throws -> Response {
        try await AdminEvents(broker: call.broker).response(for: call.request, caller: call.caller)
    }

    static func usage(_ call: RouteCall) async throws -> Response {
        let query = try call.query(UsageQuery.self)
        try Self.check(workload: query.workload)
        let baselines = try await call.broker.monitoring.usage(workload: query.workload)
        return JSONResponse.make(UsageResponse(baselines: baselines, time: call.broker.clock.now.numericDate).json)
    }

    static func quarantines(_ call: RouteCall) async throws -> Response {
        let quarantines = try await call.broker.monitoring.quarantines()
        return JSONResponse.make(QuarantineListResponse(quarantines: quarantines.map(\.wire)).json)
    }

    static func release(_ call: RouteCall) async throws -> Response {
        guard case .operator(let identity) = call.caller else {
            throw BrokerError(.forbidden, "only operators release quarantines")
        }
        let request = try await call.body(QuarantineReleaseRequest.self)
        let workload: SPIFFEID
        do {
            workload = try SPIFFEID(request.workload)
        } catch {
            throw BrokerError(.invalidRequest, "workload must be a SPIFFE ID: \(error.reason)")
        }
        let reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 1024 else {
            throw BrokerError(.invalidRequest, "reason must be 1 to 1024 bytes: say why the workload is released")
        }
        let lifts = try await call.broker.monitoring.release(workload, reason: reason, by: identity.auditName)
        let response = QuarantineReleaseResponse(workload: workload.description, lifts: lifts.map(\.wire))
        return JSONResponse.make(response.json)
    }
}

extension Quarantine {
    /// The quarantine on the wire.
    var wire: QuarantineBody {
        QuarantineBody(
            workload: workload,
            since: revocation.revokedAt.numericDate,
            revocation: Int64(clamping: revocation.sequence),
            alert: alert?.wire
        )
    }
}
