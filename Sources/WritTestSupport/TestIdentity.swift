public import Foundation
public import WritToken

/// Fixed names and times shared by tests.
public enum TestIdentity {
    /// The issuer tokens in tests come from.
    public static let issuer = "https://broker.writ.test"
    /// The resource server tokens in tests are for.
    public static let audience = "https://docs.writ.test"
    /// The instant every test clock reads.
    public static let now = Date(timeIntervalSince1970: 1_800_000_000)
    /// The acting workload.
    public static let workload = try! SPIFFEID("spiffe://example.org/agents/retrieval")
    /// A workload that delegated to ``workload``.
    public static let orchestrator = try! SPIFFEID("spiffe://example.org/agents/orchestrator")
    /// The user the work is for.
    public static let user = "alice@example.org"
    /// The task.
    public static let taskID = "task-7f3a"

    /// A typical claim set, valid at ``now`` for five minutes.
    public static func claims(
        confirmation: Confirmation? = nil,
        details: [AuthorizationDetail] = [
            AuthorizationDetail(type: "document", actions: ["read"], identifier: "hr/dept-42/*")
        ]
    ) -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: issuer,
            subject: user,
            audience: audience,
            expiresAt: now.addingTimeInterval(300),
            issuedAt: now.addingTimeInterval(-10),
            tokenID: AccessTokenClaims.makeTokenID(),
            clientID: workload,
            actorChain: [orchestrator],
            taskID: taskID,
            purpose: "answer a question about the HR handbook",
            authorizationDetails: details,
            confirmation: confirmation
        )
    }
}
