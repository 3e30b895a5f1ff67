public import HTTPTypes

/// Who may call a route.
public enum Access: Sendable, Hashable {
    /// Anyone: discovery, keys, health, and the token endpoint (which authenticates the workload by the
    /// assertion in its form).
    case anyone
    /// An authenticated workload.
    case workload
    /// An authenticated workload, or an admin operator.
    case workloadOrAdmin
    /// An operator with one of these roles.
    case `operator`([OperatorRole])
    /// A registered resource server (by its workload identity), or an operator with one of these roles.
    case resourceServerOrOperator([OperatorRole])
}

/// One row of the access table: a method, a route template, and who may call it.
public struct AccessRule: Sendable, Hashable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The route template, as registered with the router.
    public let path: String
    /// Who may call it.
    public let access: Access
}

/// Which caller may use which route: the whole of it, in one place. A route absent here is not served.
public enum AccessTable {
    /// Every route the broker serves.
    public static let rules: [AccessRule] = [
        AccessRule(method: .get, path: "/healthz", access: .anyone),
        AccessRule(method: .get, path: "/metrics", access: .operator([.admin, .metrics])),
        AccessRule(method: .get, path: "/.well-known/jwks.json", access: .anyone),
        AccessRule(method: .get, path: "/.well-known/oauth-authorization-server", access: .anyone),
        AccessRule(method: .get, path: "/.well-known/spiffe-bundle", access: .anyone),
        AccessRule(method: .post, path: "/v1/token", access: .anyone),
        AccessRule(method: .get, path: "/v1/revocations", access: .resourceServerOrOperator([.admin, .introspect])),
        AccessRule(
            method: .get,
            path: "/v1/revocations/stream",
            access: .resourceServerOrOperator([.admin, .introspect])
        ),
        AccessRule(method: .post, path: "/v1/tasks", access: .workload),
        AccessRule(method: .get, path: "/v1/tasks/{id}", access: .workloadOrAdmin),
        AccessRule(method: .post, path: "/v1/tasks/{id}/heartbeat", access: .workload),
        AccessRule(method: .post, path: "/v1/tasks/{id}/complete", access: .workload),
        AccessRule(method: .post, path: "/v1/tasks/{id}/abort", access: .workloadOrAdmin),
        AccessRule(method: .post, path: "/v1/revoke", access: .workload),
        AccessRule(method: .post, path: "/v1/introspect", access: .resourceServerOrOperator([.admin, .introspect])),
        AccessRule(method: .post, path: "/v1/admin/revocations", access: .operator([.admin])),
        AccessRule(method: .post, path: "/v1/admin/revocations/{seq}/lift", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/tasks", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/tasks/{id}", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/workloads", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/keys", access: .operator([.admin])),
        AccessRule(method: .post, path: "/v1/admin/keys/rotate", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/audit", access: .operator([.admin])),
        AccessRule(method: .get, path: "/v1/admin/audit/verify", access: .operator([.admin])),
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
