import Foundation
import WritPolicy
import WritToken

extension Broker {
    /// The policy's answer for an open task now: the task is asked for again, as granted, with the time it has
    /// left. A token request uses this answer, so a policy change (a new forbid, a narrower permit, a shorter
    /// ceiling) applies to open tasks from their next token on. A denial is audited and thrown as
    /// ``BrokerError/Code/invalidGrant`` with the policy's reasons.
    func currentGrant(for task: BrokerTask, now: Date) async throws(BrokerError) -> Grant {
        var parent: ParentTask?
        if let parentID = task.parentID {
            guard let parentTask = try await self.task(id: parentID), parentTask.state == .open else {
                throw BrokerError(.invalidGrant, "the parent task is closed")
            }
            parent = ParentTask(
                workload: parentTask.workload,
                grant: try await currentGrant(for: parentTask, now: now),
                depth: parentTask.depth,
                remaining: max(parentTask.deadline.timeIntervalSince(now), 0)
            )
        }
        let request = PolicyRequest(
            workload: WorkloadIdentity(id: task.workload, attestation: task.attestation),
            user: task.user,
            taskType: task.type,
            purpose: task.purpose,
            authorizationDetails: task.grant.authorizationDetails,
            requestedDuration: max(task.deadline.timeIntervalSince(now), 1),
            wantsBearerTokens: task.grant.bearerTokensAllowed,
            parent: parent
        )
        let decision = policies.evaluate(request)
        if case .permit(let grant, _) = decision { return grant }
        let reasons = decision.reasons
        for reason in reasons { metrics.denied(reason.code.rawValue) }
        let detail: JSONValue = .object([
            "task": .string(task.id), "workload": .string(task.workload.description),
            "reasons": .array(reasons.map(\.json)),
        ])
        let actor = task.workload.description
        let subject = task.id
        _ = try await write("audit token denial") { db in
            try AuditLog.append(db, event: "token.denied", actor: actor, subject: subject, detail: detail, at: now)
        }
        throw BrokerError(
            .invalidGrant,
            "the policy no longer allows this task: " + (reasons.first?.message ?? "denied"),
            details: .object(["reasons": .array(reasons.map(\.json))])
        )
    }
}
