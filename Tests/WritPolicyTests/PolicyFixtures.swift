import Foundation
import WritPolicy
import WritToken

/// Helpers to build policy sets and requests in tests.
enum PolicyFixtures {
    static let docs = "https://docs.example.org"
    static let retrieval = try! SPIFFEID("spiffe://example.org/agents/retrieval")

    static func load(_ yaml: String, file: String = "test.yaml") throws -> PolicySet {
        try PolicyLoader.load(sources: [(file, yaml)]).get()
    }

    static func diagnostics(_ yaml: String) -> [PolicyDiagnostic] {
        switch PolicyLoader.load(sources: [("bad.yaml", yaml)]) {
        case .success: return []
        case .failure(let errors): return errors.diagnostics
        }
    }

    static func read(
        _ identifier: String?,
        actions: [String] = ["read"],
        type: String = "document"
    ) -> AuthorizationDetail {
        AuthorizationDetail(type: type, actions: actions, locations: [docs], identifier: identifier)
    }

    static func request(
        _ details: [AuthorizationDetail],
        workload: SPIFFEID = retrieval,
        user: [String: JSONValue]? = ["sub": .string("alice"), "department": .string("hr")],
        taskType: String = "answer-question",
        duration: TimeInterval? = nil,
        bearer: Bool = false,
        parent: ParentTask? = nil
    ) -> PolicyRequest {
        PolicyRequest(
            workload: WorkloadIdentity(id: workload, attestation: .jwtSVID),
            user: user.map(UserClaims.init),
            taskType: taskType,
            authorizationDetails: details,
            requestedDuration: duration,
            wantsBearerTokens: bearer,
            parent: parent
        )
    }

    static let basic = """
        rules:
          - id: read-department
            effect: permit
            when:
              workload: { id: spiffe://example.org/agents/retrieval }
              user: { claims: { department: "*" } }
            resources:
              - type: document
                locations: https://docs.example.org
                identifiers: "departments/{user.department}/**"
                actions: [read, list]
            limits: { task_duration: 10m, token_lifetime: 4m, resources: 3 }
          - id: read-public
            effect: permit
            when:
              workload: { trust_domain: example.org }
            resources:
              - type: document
                locations: https://docs.example.org
                identifiers: "public/*"
                actions: read
            limits: { task_duration: 30m, token_lifetime: 2m, delegation_depth: 1, bearer_tokens: true }
          - id: no-secrets
            effect: forbid
            resources:
              - type: document
                identifiers: "**/secret"
        """
}
