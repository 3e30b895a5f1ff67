import Foundation
import WritAPI
import WritToken

/// Example bodies of every wire type: one with every optional member set, one with none, so the document
/// test sees every member a type can send and the members it always sends.
enum WireExamples {
    static let detail = AuthorizationDetail(
        type: "document",
        actions: ["read"],
        locations: ["https://docs.example.org"],
        identifier: "hr/handbook",
        datatypes: ["text"]
    )
    static let grant = GrantBody(
        authorizationDetails: [detail],
        taskDuration: 900,
        tokenLifetime: 300,
        delegationDepth: 1,
        bearerTokens: false
    )
    static let minimalTask = TaskBody(
        id: "tsk_1",
        rootID: "tsk_1",
        depth: 0,
        workload: "spiffe://example.org/agents/assistant",
        actors: [],
        createdBy: "spiffe://example.org/agents/assistant",
        attestation: .jwtSVID,
        type: "answer-question",
        grant: grant,
        state: .open,
        createdAt: 1_800_000_000,
        deadline: 1_800_000_900
    )
    static var fullTask: TaskBody {
        var task = minimalTask
        task.parentID = "tsk_0"
        task.user = "alice"
        task.purpose = "answer a question"
        task.reason = "completed by the workload"
        task.heartbeatInterval = 30
        task.lastHeartbeat = 1_800_000_030
        task.closedAt = 1_800_000_060
        task.implicit = true
        task.state = .completed
        return task
    }
    static let taskRevocation = Revocation(
        sequence: 7,
        subject: .task("tsk_1"),
        revokedAt: Date(timeIntervalSince1970: 1_800_000_060),
        retainUntil: Date(timeIntervalSince1970: 1_800_000_960)
    )
    static let workloadRevocation = Revocation(
        sequence: 8,
        subject: .workload(try! SPIFFEID("spiffe://example.org/agents/assistant")),
        revokedAt: Date(timeIntervalSince1970: 1_800_000_060),
        retainUntil: Date(timeIntervalSince1970: 1_800_000_960)
    )
    static let issuedBefore = Revocation(
        sequence: 9,
        subject: .issuedBefore(
            Date(timeIntervalSince1970: 1_800_000_000),
            workload: try! SPIFFEID("spiffe://example.org/agents/assistant")
        ),
        revokedAt: Date(timeIntervalSince1970: 1_800_000_060),
        retainUntil: Date(timeIntervalSince1970: 1_800_000_960)
    )
    static let lift = Revocation(
        sequence: 10,
        subject: .lift(8, from: Date(timeIntervalSince1970: 1_800_000_100)),
        revokedAt: Date(timeIntervalSince1970: 1_800_000_100),
        retainUntil: Date(timeIntervalSince1970: 1_800_000_960)
    )
    static let token = TokenResponse(
        accessToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        tokenType: .dpop,
        expiresIn: 300,
        authorizationDetails: [detail]
    )
    /// A bearer token asked for by scope.
    static let scopedToken = TokenResponse(
        accessToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        tokenType: .bearer,
        expiresIn: 300,
        authorizationDetails: [detail],
        scope: "documents:read"
    )
    static let claims = AccessTokenClaims(
        issuer: "https://writ.example.org",
        subject: "alice",
        audience: "https://docs.example.org",
        expiresAt: Date(timeIntervalSince1970: 1_800_000_300),
        issuedAt: Date(timeIntervalSince1970: 1_800_000_000),
        tokenID: "jti_1",
        clientID: try! SPIFFEID("spiffe://example.org/agents/assistant"),
        taskID: "tsk_1",
        authorizationDetails: [detail]
    )
    static let introspection = IntrospectionResponse(active: true, tokenType: .dpop, claims: claims)
    /// A live token with every optional claim: a purpose, a not-before time, a DPoP key, a delegated chain.
    static let delegatedIntrospection: IntrospectionResponse = {
        var claims = WireExamples.claims
        claims.notBefore = Date(timeIntervalSince1970: 1_800_000_000)
        claims.purpose = "answer a question"
        claims.confirmation = .dpop(jwkThumbprint: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        claims.actorChain = [
            try! SPIFFEID("spiffe://example.org/agents/assistant"),
            try! SPIFFEID("spiffe://example.org/agents/summarizer"),
        ]
        return IntrospectionResponse(active: true, tokenType: .dpop, claims: claims)
    }()
    /// A live token bound to the client's certificate, presented as a bearer token over mutual TLS.
    static let certificateIntrospection: IntrospectionResponse = {
        var claims = WireExamples.claims
        claims.confirmation = .mutualTLS(certificateThumbprint: "hcP0Kggtjr3QGCLtW9ZJHba2IuxGMEyCn4H59Qz7A9g")
        return IntrospectionResponse(active: true, tokenType: .bearer, claims: claims)
    }()
    static let summary = TaskSummaryBody(task: fullTask, tokens: 2, liveTokens: 1)
    static let key = SigningKeyBody(
        kid: "k2",
        alg: "ES256",
        state: .retiring,
        createdAt: 1_800_000_000,
        activatesAt: 1_800_000_600,
        retiresAt: 1_800_001_000,
        retiredAt: 1_800_002_000
    )
    static let entry = AuditEntryBody(
        seq: 1,
        atMilliseconds: 1_800_000_000_123,
        event: "task.created",
        actor: "spiffe://example.org/agents/assistant",
        subject: "tsk_1",
        detail: .object(["type": .string("answer-question")]),
        prevHash: String(repeating: "0", count: 64),
        hash: String(repeating: "a", count: 64)
    )
    /// Metadata of a broker without a mutual-TLS listener.
    static let metadata = AuthorizationServerMetadata(
        issuer: "https://writ.example.org",
        authorizationEndpoint: "https://writ.example.org/v1/authorize",
        tokenEndpoint: "https://writ.example.org/v1/token",
        jwksURI: "https://writ.example.org/.well-known/jwks.json",
        revocationEndpoint: "https://writ.example.org/v1/revoke",
        introspectionEndpoint: "https://writ.example.org/v1/introspect",
        grantTypesSupported: [TokenEndpointForm.grantType, TokenEndpointForm.clientCredentialsGrantType],
        tokenEndpointAuthMethodsSupported: ["private_key_jwt", "none"],
        revocationEndpointAuthMethodsSupported: ["private_key_jwt", "bearer"],
        introspectionEndpointAuthMethodsSupported: ["private_key_jwt", "bearer"],
        clientAssertionAlgorithms: ["ES256", "EdDSA", "RS256"],
        authorizationDetailsTypesSupported: ["document"],
        scopesSupported: ["documents:read"],
        dpopSigningAlgValuesSupported: ["ES256", "EdDSA"],
        responseTypesSupported: ["none"],
        writRevocationFeedEndpoint: "https://writ.example.org/v1/revocations",
        writRevocationStreamEndpoint: "https://writ.example.org/v1/revocations/stream",
        writTasksEndpoint: "https://writ.example.org/v1/tasks"
    )
    /// Metadata of a broker with a mutual-TLS listener.
    static var mutualTLSMetadata: AuthorizationServerMetadata {
        var metadata = metadata
        metadata.mtlsEndpointAliases = MutualTLSEndpointAliases(
            tokenEndpoint: "https://writ.example.org:8443/v1/token",
            revocationEndpoint: "https://writ.example.org:8443/v1/revoke"
        )
        metadata.tlsClientCertificateBoundAccessTokens = true
        return metadata
    }
    static let jwk: JSONValue = .object([
        "kty": .string("EC"), "crv": .string("P-256"), "kid": .string("k1"), "alg": .string("ES256"),
        "x": .string("eA"), "y": .string("eQ"),
    ])
    static let bundleKey: JSONValue = {
        guard case .object(var members) = jwk else { return jwk }
        members["use"] = .string("jwt-svid")
        return .object(members)
    }()

    static let sessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

    static let stream = StreamConfiguration(
        streamID: "ssf_1",
        issuer: "https://broker.example",
        audience: "spiffe://example.org/services/documents",
        eventsSupported: [sessionRevoked],
        eventsRequested: [sessionRevoked],
        eventsDelivered: [sessionRevoked],
        delivery: StreamDelivery(method: "urn:ietf:rfc:8936", endpointURL: "https://broker.example/v1/ssf/poll/ssf_1"),
        minimumVerificationInterval: 0,
        description: "documents service"
    )

    static let streamWithoutDescription: StreamConfiguration = {
        var copy = stream
        copy.description = nil
        return copy
    }()

    /// Examples of each type: the first with every optional member set, the last with none.
    static let byType: [(any WireValue.Type, [any WireValue])] = [
        (HealthResponse.self, [HealthResponse()]),
        (
            TransmitterConfiguration.self,
            [
                TransmitterConfiguration(
                    issuer: "https://broker.example",
                    jwksURI: "https://broker.example/.well-known/jwks.json",
                    deliveryMethods: ["urn:ietf:rfc:8936"],
                    configurationEndpoint: "https://broker.example/v1/ssf/streams",
                    statusEndpoint: "https://broker.example/v1/ssf/status",
                    verificationEndpoint: "https://broker.example/v1/ssf/verify",
                    authorizationSchemes: ["urn:ietf:rfc:6750"]
                )
            ]
        ),
        (
            StreamConfigurationRequest.self,
            [
                StreamConfigurationRequest(
                    streamID: "ssf_1",
                    eventsRequested: [sessionRevoked],
                    delivery: StreamDelivery(
                        method: "urn:ietf:rfc:8935",
                        endpointURL: "https://rs.example/events",
                        authorizationHeader: "Bearer s3cret"
                    ),
                    description: "documents service"
                ),
                StreamConfigurationRequest(),
            ]
        ),
        (StreamConfiguration.self, [stream, streamWithoutDescription]),
        (StreamList.self, [StreamList([stream]), StreamList([])]),
        (StreamDelivery.self, [StreamDelivery(method: "urn:ietf:rfc:8936", endpointURL: "https://broker.example/p")]),
        (
            StreamStatus.self,
            [
                StreamStatus(streamID: "ssf_1", status: "paused", reason: "maintenance"),
                StreamStatus(streamID: "ssf_1", status: "enabled"),
            ]
        ),
        (
            StreamVerificationRequest.self,
            [StreamVerificationRequest(streamID: "ssf_1", state: "abc"), StreamVerificationRequest(streamID: "ssf_1")]
        ),
        (
            PollRequest.self,
            [
                PollRequest(
                    acknowledged: ["ssf_1.4"],
                    maximumEvents: 10,
                    returnImmediately: true,
                    errors: .object(["ssf_1.5": .object(["err": .string("invalid_key"), "description": .string("x")])])
                ),
                PollRequest(),
            ]
        ),
        (PollResponse.self, [PollResponse(events: ["ssf_1.6": "eyJ.e.s"], moreAvailable: false)]),
        (KeySetDocument.self, [KeySetDocument(keys: [jwk])]),
        (SPIFFEBundleDocument.self, [SPIFFEBundleDocument(keys: [bundleKey], spiffeRefreshHint: 300)]),
        (AuthorizationServerMetadata.self, [mutualTLSMetadata, metadata]),
        (
            ErrorResponse.self,
            [
                ErrorResponse(
                    error: "access_denied",
                    errorDescription: "the policy denies the task",
                    reasons: [
                        DenialReasonBody(
                            code: "not_covered",
                            message: "no permit covers read",
                            rules: ["permit-read"],
                            entry: 0,
                            action: "read"
                        )
                    ]
                ),
                ErrorResponse(error: "invalid_request", errorDescription: "type is required"),
            ]
        ),
        (
            TaskRequest.self,
            [
                TaskRequest(
                    type: "answer-question",
                    purpose: "answer a question",
                    authorizationDetails: [detail],
                    maxDuration: 600,
                    parent: "tsk_0",
                    delegateTo: "spiffe://example.org/agents/summarizer",
                    userAssertion: "eyJ.user.assertion",
                    bearer: false,
                    heartbeatInterval: 30
                ),
                TaskRequest(type: "answer-question", authorizationDetails: [detail]),
            ]
        ),
        (TaskBody.self, [fullTask, minimalTask]),
        (
            TaskClosureResponse.self,
            [TaskClosureResponse(state: .completed, tasksClosed: ["tsk_1"], revocations: [taskRevocation], sequence: 7)]
        ),
        (TokenResponse.self, [token, scopedToken]),
        (
            IntrospectionResponse.self,
            [delegatedIntrospection, certificateIntrospection, introspection, IntrospectionResponse.inactive]
        ),
        (
            RevocationRequest.self,
            [
                RevocationRequest(
                    kind: .issuedBefore,
                    id: "unused",
                    before: 1_800_000_000,
                    workload: "spiffe://example.org/agents/assistant"
                ),
                RevocationRequest(kind: .user),
            ]
        ),
        (
            RevocationOutcomeResponse.self,
            [
                RevocationOutcomeResponse(
                    revocations: [workloadRevocation],
                    sequence: 8,
                    tasksClosed: ["tsk_a", "tsk_b"],
                    tokensCovered: 3
                )
            ]
        ),
        (RevocationLiftRequest.self, [RevocationLiftRequest(reason: "revoked the wrong workload")]),
        (
            RevocationLiftResponse.self,
            [RevocationLiftResponse(revocation: lift, lifted: workloadRevocation, sequence: 10, isNew: true)]
        ),
        (
            RevocationPageResponse.self,
            [
                RevocationPageResponse(
                    revocations: [taskRevocation, workloadRevocation, issuedBefore, lift],
                    first: 7,
                    last: 10,
                    hasMore: false,
                    time: 1_800_000_200
                ),
                RevocationPageResponse(revocations: [], first: nil, last: 0, hasMore: false, time: 1_800_000_200),
            ]
        ),
        (Revocation.self, [taskRevocation, workloadRevocation, issuedBefore, lift]),
        (RevocationHeartbeat.self, [RevocationHeartbeat(last: 10, time: 1_800_000_200)]),
        (TaskListResponse.self, [TaskListResponse(tasks: [summary], hasMore: true, time: 1_800_000_200)]),
        (TaskSummaryBody.self, [summary]),
        (
            TaskTreeResponse.self,
            [
                TaskTreeResponse(
                    tasks: [fullTask],
                    tokens: [
                        IssuedTokenBody(
                            jti: "jti_1",
                            taskID: "tsk_1",
                            workload: "spiffe://example.org/agents/assistant",
                            sub: "alice",
                            aud: "https://docs.example.org",
                            iat: 1_800_000_000,
                            exp: 1_800_000_300,
                            binding: .dpop,
                            revoked: true
                        )
                    ],
                    time: 1_800_000_200
                )
            ]
        ),
        (
            WorkloadListResponse.self,
            [
                WorkloadListResponse(workloads: [
                    WorkloadActivityBody(
                        workload: "spiffe://example.org/agents/assistant",
                        openTasks: 1,
                        tasks: 3,
                        liveTokens: 1,
                        lastTaskAt: 1_800_000_000
                    )
                ]),
                WorkloadListResponse(workloads: [
                    WorkloadActivityBody(
                        workload: "spiffe://example.org/agents/x",
                        openTasks: 0,
                        tasks: 1,
                        liveTokens: 0
                    )
                ]),
            ]
        ),
        (
            SigningKeyListResponse.self,
            [
                SigningKeyListResponse(keys: [key], active: "k3", publishLead: 600),
                SigningKeyListResponse(
                    keys: [SigningKeyBody(kid: "k3", alg: "ES256", state: .active, createdAt: 1_800_000_000)],
                    active: "k3",
                    publishLead: 600
                ),
            ]
        ),
        (
            KeyRotationResponse.self,
            [
                KeyRotationResponse(
                    kid: "k4",
                    activatesAt: 1_800_000_600,
                    previousKid: "k3",
                    previousRetiresAt: 1_800_001_200
                )
            ]
        ),
        (AuditPageResponse.self, [AuditPageResponse(entries: [entry])]),
        (
            AuditVerificationResponse.self,
            [
                AuditVerificationResponse(
                    intact: false,
                    entries: 10,
                    last: 10,
                    brokenAt: 4,
                    reason: "hash mismatch",
                    anchorSeq: 3
                ),
                AuditVerificationResponse(intact: true, entries: 10, last: 10),
            ]
        ),
        (UsageReport.self, [usageReport, UsageReport(audience: "https://docs.example.org", records: [])]),
        (UsageReportResponse.self, [UsageReportResponse(accepted: 2)]),
        (
            UsageResponse.self,
            [
                UsageResponse(
                    baselines: [
                        UsageBaselineBody(
                            workload: "spiffe://example.org/agents/assistant",
                            taskType: "answer-question",
                            tasks: 24,
                            finishedTasks: 22,
                            requestsP99: 9,
                            subtasksP99: 2,
                            refusalsPerThousand: 12,
                            liveTasks: 2,
                            liveRequests: 5,
                            liveRefusals: 1,
                            uses: [
                                BaselineUseBody(
                                    audience: "https://docs.example.org",
                                    resourceType: "document",
                                    action: "read",
                                    prefix: "departments/hr/handbook",
                                    allowed: 80,
                                    refused: 1,
                                    lastSeen: 1_800_000_000
                                )
                            ]
                        ),
                        UsageBaselineBody(
                            workload: "spiffe://example.org/agents/new",
                            taskType: "summarize",
                            tasks: 1,
                            finishedTasks: 0,
                            requestsP99: nil,
                            refusalsPerThousand: 0,
                            liveTasks: 1,
                            liveRequests: 0,
                            liveRefusals: 0,
                            uses: []
                        ),
                    ],
                    time: 1_800_000_100
                )
            ]
        ),
        (MonitorResponse.self, [MonitorResponse(alerts: [alert, taskAlert], quarantines: [quarantine])]),
        (MonitoringAlertBody.self, [alert, taskAlert]),
        (QuarantineListResponse.self, [QuarantineListResponse(quarantines: [quarantine])]),
        (
            QuarantineReleaseRequest.self,
            [QuarantineReleaseRequest(workload: "spiffe://example.org/agents/assistant", reason: "prompt fixed")]
        ),
        (
            QuarantineReleaseResponse.self,
            [
                QuarantineReleaseResponse(
                    workload: "spiffe://example.org/agents/assistant",
                    lifts: [
                        RevocationLiftResponse(revocation: lift, lifted: workloadRevocation, sequence: 10, isNew: true)
                    ]
                )
            ]
        ),
    ]

    static let usageReport = UsageReport(
        audience: "https://docs.example.org",
        records: [
            UsageRecord(
                task: "tsk_1",
                token: "tok_1",
                workload: "spiffe://example.org/agents/assistant",
                action: "read",
                resourceType: "document",
                identifier: "departments/hr/handbook/leave",
                outcome: UsageRecord.allowed,
                count: 3,
                first: 1_800_000_000,
                last: 1_800_000_004
            ),
            UsageRecord(
                task: "tsk_1",
                token: "tok_1",
                workload: "spiffe://example.org/agents/assistant",
                action: "read",
                resourceType: "document",
                identifier: "departments/finance/payroll/2026-11",
                outcome: "insufficient_authorization",
                count: 1,
                first: 1_800_000_005,
                last: 1_800_000_005
            ),
            UsageRecord(outcome: "unknown_key", count: 2, first: 1_800_000_001, last: 1_800_000_002),
        ],
        dropped: 4
    )

    static let alert = MonitoringAlertBody(
        id: 1,
        at: 1_800_000_006,
        rule: "documents-probing",
        kind: "refusals",
        response: "quarantine_workload",
        workload: "spiffe://example.org/agents/assistant",
        task: nil,
        taskType: nil,
        window: 30,
        observed: 6,
        threshold: 5,
        codes: ["insufficient_authorization"],
        baseline: nil,
        revocation: 12,
        explanation: "rule documents-probing: 6 refusals ..."
    )

    static let taskAlert = MonitoringAlertBody(
        id: 2,
        at: 1_800_000_007,
        rule: "one-task-new-resource",
        kind: "new_resource",
        response: "revoke_task",
        workload: "spiffe://example.org/agents/assistant",
        task: "tsk_1",
        taskType: "answer-question",
        window: 10,
        observed: 4,
        threshold: 3,
        codes: [],
        baseline: "read document departments/finance/* at https://docs.example.org (allowed) was never allowed ...",
        revocation: nil,
        explanation: "rule one-task-new-resource: task tsk_1 of ..."
    )

    static let quarantine = QuarantineBody(
        workload: "spiffe://example.org/agents/assistant",
        since: 1_800_000_006,
        revocation: 12,
        alert: alert
    )

    /// The examples of a type.
    static func examples(of type: any WireValue.Type) -> [any WireValue] {
        byType.first { ObjectIdentifier($0.0) == ObjectIdentifier(type) }?.1 ?? []
    }

    /// Every example.
    static let all: [any WireValue] = byType.flatMap(\.1)
}

/// Example parameters of every form and query: every parameter set, so the document test sees all names.
enum ParameterExamples {
    static let all: [any WireParameters] = [
        {
            var exchange = TokenEndpointForm(taskID: "tsk_1", audience: "https://docs.example.org")
            exchange.resource = "https://docs.example.org"
            exchange.actorToken = "eyJ.actor"
            exchange.actorTokenType = TokenEndpointForm.jwtType
            exchange.subjectToken = "eyJ.user"
            exchange.subjectTokenType = TokenEndpointForm.idTokenType
            exchange.requestedTokenType = TokenEndpointForm.accessTokenType
            exchange.scope = "read"
            exchange.assertion = "eyJ.assertion"
            exchange.clientID = "spiffe://example.org/agents/a"
            exchange.clientAssertionType = TokenEndpointForm.jwtBearerAssertionType
            exchange.clientAssertion = "eyJ.client"
            exchange.authorizationDetails = #"[{"type":"document","actions":["read"]}]"#
            exchange.taskType = "answer-question"
            exchange.purpose = "answer one question"
            return exchange
        }(),
        IntrospectionRequest(
            token: "eyJ.token",
            tokenTypeHint: "access_token",
            clientAssertion: FormClientAssertion(assertion: "eyJ.client", clientID: "spiffe://example.org/services/a")
        ),
        TokenRevocationRequest(
            token: "eyJ.token",
            tokenTypeHint: "access_token",
            clientAssertion: FormClientAssertion(assertion: "eyJ.client", clientID: "spiffe://example.org/agents/a")
        ),
        RevocationPageQuery(after: 5, limit: 100),
        RevocationStreamQuery(after: 5),
        AdminEventQuery(after: 7),
        TaskListQuery(
            workload: "spiffe://example.org/agents/assistant",
            user: "alice",
            state: .open,
            audience: "https://docs.example.org",
            limit: 10
        ),
        KeyRotationQuery(immediately: true),
        StreamQuery(streamID: "ssf_1"),
        AuditPageQuery(after: 1, limit: 10, last: 5),
        AuditVerificationQuery(anchorSeq: 3, anchorHash: String(repeating: "a", count: 64)),
        MonitorQuery(workload: "spiffe://example.org/agents/assistant", limit: 20),
        UsageQuery(workload: "spiffe://example.org/agents/assistant"),
    ]

    /// The example of a type.
    static func example(of type: any WireParameters.Type) -> (any WireParameters)? {
        all.first { ObjectIdentifier(Swift.type(of: $0)) == ObjectIdentifier(type) }
    }
}
