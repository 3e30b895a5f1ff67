import Foundation
import WritToken

/// The token every verify measurement uses: a typical grant of two authorization details, a delegating
/// actor, a purpose and a status list reference (as every token the broker issues), valid for an hour from now.
enum BenchmarkToken {
    static let issuer = "https://broker.writ.test"
    static let audience = "https://docs.writ.test"

    static func claims() throws -> AccessTokenClaims {
        let now = Date()
        return AccessTokenClaims(
            issuer: issuer,
            subject: "alice@example.org",
            audience: audience,
            expiresAt: now.addingTimeInterval(3600),
            issuedAt: now,
            clientID: try SPIFFEID("spiffe://example.org/agents/retrieval"),
            actorChain: [try SPIFFEID("spiffe://example.org/agents/orchestrator")],
            taskID: "task-7f3a2c",
            purpose: "answer a question about the HR handbook",
            authorizationDetails: [
                AuthorizationDetail(type: "document", actions: ["read"], identifier: "hr/dept-42/handbook"),
                AuthorizationDetail(type: "document", actions: ["read"], identifier: "hr/dept-42/policies/*"),
            ],
            status: StatusListReference(index: 48_213, uri: issuer + "/v1/status-lists/bench-1.0")
        )
    }
}
