public import HTTPTypes
public import Hummingbird

/// Who may call a route.
public enum Access: Sendable, Hashable {
    /// Anyone: discovery, keys, health.
    case anyone
    /// The token endpoint's client: the workload proven by the form's `actor_token` (RFC 8693), or by the
    /// X.509-SVID the request came over.
    case tokenClient
    /// An authenticated workload.
    case workload
    /// An authenticated workload, or an admin operator.
    case workloadOrAdmin
    /// An operator with one of these roles.
    case `operator`([OperatorRole])
    /// A registered resource server, by its workload identity (a Shared Signals receiver).
    case resourceServer
    /// A registered resource server (by its workload identity), or an operator with one of these roles.
    case resourceServerOrOperator([OperatorRole])
}

/// What serves a route once its caller is admitted.
public typealias RouteHandler = @Sendable (RouteCall) async throws -> Response

/// One row of the access table: a method, a route template, who may call it, and the handler that serves it
/// (in the room of its concept).
public struct AccessRule: Sendable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The route template, as registered with the router.
    public let path: String
    /// Who may call it.
    public let access: Access
    /// What serves it.
    public let handler: RouteHandler

    init(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ handler: @escaping RouteHandler) {
        self.method = method
        self.path = path
        self.access = access
        self.handler = handler
    }
}

/// Which caller may use which route, and what serves it: the whole of it, in one place. A route absent here
/// is not served; a row here is always served (its handler is part of it).
public enum AccessTable {
    /// Every route the broker serves.
    public static let rules: [AccessRule] = [
        AccessRule(.get, "/healthz", .anyone, DiscoveryRoutes.health),
        AccessRule(.get, "/metrics", .operator([.admin, .metrics]), DiscoveryRoutes.metrics),
        AccessRule(.get, "/.well-known/jwks.json", .anyone, KeyRoutes.jwks),
        AccessRule(.get, "/.well-known/oauth-authorization-server", .anyone, DiscoveryRoutes.serverMetadata),
        AccessRule(.get, "/.well-known/spiffe-bundle", .anyone, KeyRoutes.spiffeBundle),
        AccessRule(.get, "/v1/authorize", .anyone, DiscoveryRoutes.authorize),
        AccessRule(.get, "/v1/status-lists/{id}", .anyone, StatusRoutes.list),
        AccessRule(.get, "/.well-known/ssf-configuration", .anyone, SignalRoutes.configuration),
        AccessRule(.post, "/v1/ssf/streams", .resourceServer, SignalRoutes.create),
        AccessRule(.get, "/v1/ssf/streams", .resourceServer, SignalRoutes.read),
        AccessRule(.patch, "/v1/ssf/streams", .resourceServer, SignalRoutes.patch),
        AccessRule(.put, "/v1/ssf/streams", .resourceServer, SignalRoutes.replace),
        AccessRule(.delete, "/v1/ssf/streams", .resourceServer, SignalRoutes.delete),
        AccessRule(.get, "/v1/ssf/status", .resourceServer, SignalRoutes.status),
        AccessRule(.post, "/v1/ssf/status", .resourceServer, SignalRoutes.setStatus),
        AccessRule(.post, "/v1/ssf/verify", .resourceServer, SignalRoutes.verify),
        AccessRule(.post, "/v1/ssf/poll/{id}", .resourceServer, SignalRoutes.poll),
        AccessRule(.post, "/v1/ssf/events", .anyone, SignalRoutes.receive),
        AccessRule(.post, "/v1/usage", .resourceServer, MonitoringRoutes.report),
        AccessRule(.post, "/v1/token", .tokenClient, TokenRoutes.token),
        AccessRule(.get, "/v1/revocations", .resourceServerOrOperator([.admin, .introspect]), RevocationRoutes.page),
        AccessRule(
            .get,
            "/v1/revocations/stream",
            .resourceServerOrOperator([.admin, .introspect]),
            RevocationRoutes.stream
        ),
        AccessRule(.post, "/v1/tasks", .workload, TaskRoutes.create),
        AccessRule(.get, "/v1/tasks/{id}", .workloadOrAdmin, TaskRoutes.fetch),
        AccessRule(.post, "/v1/tasks/{id}/heartbeat", .workload, TaskRoutes.heartbeat),
        AccessRule(.post, "/v1/tasks/{id}/complete", .workload, TaskRoutes.complete),
        AccessRule(.post, "/v1/tasks/{id}/abort", .workloadOrAdmin, TaskRoutes.abort),
        AccessRule(.post, "/v1/revoke", .workload, RevocationRoutes.holderRevoke),
        AccessRule(.post, "/v1/introspect", .resourceServerOrOperator([.admin, .introspect]), TokenRoutes.introspect),
        AccessRule(.post, "/v1/admin/revocations", .operator([.admin]), RevocationRoutes.revoke),
        AccessRule(.post, "/v1/admin/revocations/{seq}/lift", .operator([.admin]), RevocationRoutes.lift),
        AccessRule(.get, "/v1/admin/tasks", .operator([.admin]), TaskRoutes.list),
        AccessRule(.get, "/v1/admin/tasks/{id}", .operator([.admin]), TaskRoutes.tree),
        AccessRule(.get, "/v1/admin/workloads", .operator([.admin]), TaskRoutes.workloads),
        AccessRule(.get, "/v1/admin/keys", .operator([.admin]), KeyRoutes.list),
        AccessRule(.post, "/v1/admin/keys/rotate", .operator([.admin]), KeyRoutes.rotate),
        AccessRule(.get, "/v1/admin/audit", .operator([.admin]), AuditRoutes.entries),
        AccessRule(.get, "/v1/admin/audit/verify", .operator([.admin]), AuditRoutes.verify),
        AccessRule(.get, "/v1/admin/monitor", .operator([.admin]), MonitoringRoutes.monitor),
        AccessRule(.get, "/v1/admin/events", .operator([.admin]), MonitoringRoutes.events),
        AccessRule(.get, "/v1/admin/usage", .operator([.admin]), MonitoringRoutes.usage),
        AccessRule(.get, "/v1/admin/quarantines", .operator([.admin]), MonitoringRoutes.quarantines),
        AccessRule(.post, "/v1/admin/quarantines/release", .operator([.admin]), MonitoringRoutes.release),
    ]

    /// The methods served on a concrete path (templates' `{name}` segments match any one segment).
    public static func methods(servingPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return rules.filter { rule in
            let template = rule.path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { pattern, segment in
                pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
            }
        }.map(\.method)
    }
}
