import WritToken

/// Every route the broker serves, with its wire types: the one list a server handler, a client and the
/// API document's test all go by.
public enum WireRoutes {
    /// The routes.
    public static let all: [WireRoute] = [
        WireRoute("GET", "/healthz", responses: [200: .json(HealthResponse.self)]),
        WireRoute("GET", "/metrics", responses: [200: .text]),
        WireRoute("GET", "/.well-known/jwks.json", responses: [200: .json(KeySetDocument.self)]),
        WireRoute(
            "GET",
            "/.well-known/oauth-authorization-server",
            responses: [200: .json(AuthorizationServerMetadata.self)]
        ),
        WireRoute("GET", "/.well-known/spiffe-bundle", responses: [200: .json(SPIFFEBundleDocument.self)]),
        WireRoute("GET", "/v1/authorize", responses: [:]),
        WireRoute(
            "GET",
            "/.well-known/ssf-configuration",
            responses: [200: .json(TransmitterConfiguration.self)]
        ),
        WireRoute(
            "POST",
            "/v1/ssf/streams",
            request: .json(StreamConfigurationRequest.self),
            responses: [201: .json(StreamConfiguration.self)]
        ),
        WireRoute(
            "GET",
            "/v1/ssf/streams",
            request: .query(StreamQuery.self),
            responses: [200: .json(StreamList.self)]
        ),
        WireRoute(
            "PATCH",
            "/v1/ssf/streams",
            request: .json(StreamConfigurationRequest.self),
            responses: [200: .json(StreamConfiguration.self)]
        ),
        WireRoute(
            "PUT",
            "/v1/ssf/streams",
            request: .json(StreamConfigurationRequest.self),
            responses: [200: .json(StreamConfiguration.self)]
        ),
        WireRoute("DELETE", "/v1/ssf/streams", request: .query(StreamQuery.self), responses: [204: .empty]),
        WireRoute(
            "GET",
            "/v1/ssf/status",
            request: .query(StreamQuery.self),
            responses: [200: .json(StreamStatus.self)]
        ),
        WireRoute(
            "POST",
            "/v1/ssf/status",
            request: .json(StreamStatus.self),
            responses: [200: .json(StreamStatus.self)]
        ),
        WireRoute("POST", "/v1/ssf/verify", request: .json(StreamVerificationRequest.self), responses: [204: .empty]),
        WireRoute(
            "POST",
            "/v1/ssf/events",
            request: .signedJWT(mediaType: "application/secevent+jwt"),
            responses: [202: .empty]
        ),
        WireRoute(
            "POST",
            "/v1/ssf/poll/{id}",
            request: .json(PollRequest.self),
            responses: [200: .json(PollResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/status-lists/{id}",
            responses: [200: .signedJWT(mediaType: StatusListToken.mediaType), 304: .empty]
        ),
        WireRoute(
            "POST",
            "/v1/usage",
            request: .json(UsageReport.self),
            responses: [200: .json(UsageReportResponse.self)]
        ),
        WireRoute(
            "POST",
            "/v1/token",
            request: .form(TokenEndpointForm.self),
            responses: [200: .json(TokenResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/revocations",
            request: .query(RevocationPageQuery.self),
            responses: [200: .json(RevocationPageResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/revocations/stream",
            request: .query(RevocationStreamQuery.self),
            responses: [
                200: .events([
                    RevocationStream.revocationEvent: Revocation.self,
                    RevocationStream.heartbeatEvent: RevocationHeartbeat.self,
                ])
            ]
        ),
        WireRoute("POST", "/v1/tasks", request: .json(TaskRequest.self), responses: [201: .json(TaskBody.self)]),
        WireRoute("GET", "/v1/tasks/{id}", responses: [200: .json(TaskBody.self)]),
        WireRoute("POST", "/v1/tasks/{id}/heartbeat", responses: [200: .json(TaskBody.self)]),
        WireRoute("POST", "/v1/tasks/{id}/complete", responses: [200: .json(TaskClosureResponse.self)]),
        WireRoute("POST", "/v1/tasks/{id}/abort", responses: [200: .json(TaskClosureResponse.self)]),
        WireRoute("POST", "/v1/revoke", request: .form(TokenRevocationRequest.self), responses: [200: .empty]),
        WireRoute(
            "POST",
            "/v1/introspect",
            request: .form(IntrospectionRequest.self),
            responses: [200: .json(IntrospectionResponse.self)]
        ),
        WireRoute(
            "POST",
            "/v1/admin/revocations",
            request: .json(RevocationRequest.self),
            responses: [201: .json(RevocationOutcomeResponse.self)]
        ),
        WireRoute(
            "POST",
            "/v1/admin/revocations/{seq}/lift",
            request: .json(RevocationLiftRequest.self),
            responses: [201: .json(RevocationLiftResponse.self), 200: .json(RevocationLiftResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/admin/tasks",
            request: .query(TaskListQuery.self),
            responses: [200: .json(TaskListResponse.self)]
        ),
        WireRoute("GET", "/v1/admin/tasks/{id}", responses: [200: .json(TaskTreeResponse.self)]),
        WireRoute("GET", "/v1/admin/workloads", responses: [200: .json(WorkloadListResponse.self)]),
        WireRoute("GET", "/v1/admin/keys", responses: [200: .json(SigningKeyListResponse.self)]),
        WireRoute(
            "POST",
            "/v1/admin/keys/rotate",
            request: .query(KeyRotationQuery.self),
            responses: [201: .json(KeyRotationResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/admin/audit",
            request: .query(AuditPageQuery.self),
            responses: [200: .json(AuditPageResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/admin/audit/verify",
            request: .query(AuditVerificationQuery.self),
            responses: [200: .json(AuditVerificationResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/admin/monitor",
            request: .query(MonitorQuery.self),
            responses: [200: .json(MonitorResponse.self)]
        ),
        WireRoute(
            "GET",
            "/v1/admin/events",
            request: .query(AdminEventQuery.self),
            responses: [
                200: .events([
                    AdminEventStream.alertEvent: MonitoringAlertBody.self,
                    AdminEventStream.heartbeatEvent: RevocationHeartbeat.self,
                ])
            ]
        ),
        WireRoute(
            "GET",
            "/v1/admin/usage",
            request: .query(UsageQuery.self),
            responses: [200: .json(UsageResponse.self)]
        ),
        WireRoute("GET", "/v1/admin/quarantines", responses: [200: .json(QuarantineListResponse.self)]),
        WireRoute(
            "POST",
            "/v1/admin/quarantines/release",
            request: .json(QuarantineReleaseRequest.self),
            responses: [200: .json(QuarantineReleaseResponse.self)]
        ),
    ]

    /// The route with this method and template, if served.
    public static func route(_ method: String, _ path: String) -> WireRoute? {
        all.first { $0.method == method && $0.path == path }
    }

    /// A route template with its `{name}` parameters filled in, each percent-encoded as one path segment.
    public static func path(_ template: String, _ parameters: [String: String]) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return String(segment) }
            let name = String(segment.dropFirst().dropLast())
            return WirePath.escape(parameters[name] ?? "")
        }.joined(separator: "/")
    }
}
