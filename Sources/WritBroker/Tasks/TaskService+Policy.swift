public import Foundation
public import WritPolicy
import WritToken

extension TaskService {
    /// The policy's grant for a new task; a denial is audited (`task.denied`) and thrown as
    /// ``BrokerError/Code/accessDenied`` with the policy's reasons.
    func grant(
        for descriptor: TaskDescriptor,
        acting: WorkloadIdentity,
        user: UserClaims?,
        parent: BrokerTask?,
        by caller: WorkloadIdentity,
        now: Date
    ) async throws(BrokerError) -> Grant {
        let request = PolicyRequest(
            workload: acting,
            user: user,
            taskType: descriptor.type,
            purpose: descriptor.purpose,
            authorizationDetails: descriptor.authorizationDetails,
            requestedDuration: descriptor.maximumDuration,
            wantsBearerTokens: descriptor.bearer,
            parent: parent.map {
                ParentTask(
                    workload: $0.workload,
                    grant: $0.grant,
                    depth: $0.depth,
                    remaining: max($0.deadline.timeIntervalSince(now), 0)
                )
            }
        )
        let decision = context.policies.evaluate(request)
        if case .permit(let grant, _) = decision { return grant }
        let reasons = decision.reasons
        context.observe(BrokerSignal(code: "task_denied", workload: acting.id, taskType: descriptor.type))
        try await recordDenial(
            reasons,
            AuditEvent(
                "task.denied",
                actor: caller.id.description,
                subject: "-",
                detail: .object(["type": .string(descriptor.type), "workload": .string(acting.id.description)])
            )
        )
        throw BrokerError(
            .accessDenied,
            reasons.first?.message ?? "the policy denies this task",
            reasons: reasons
        )
    }

    /// The policy's answer for an open task now: the task is asked for again, as granted, with the time it has
    /// left. A token request uses this answer, so a policy change (a new forbid, a narrower permit, a shorter
    /// ceiling) applies to open tasks from their next token on. A denial is audited (`token.denied`) and thrown
    /// as ``BrokerError/Code/invalidGrant`` with the policy's reasons.
    public func currentGrant(for task: BrokerTask, now: Date) async throws(BrokerError) -> Grant {
        var parent: ParentTask?
        if let parentID = task.parentID {
            guard let parentTask = try await fetch(id: parentID), parentTask.state == .open else {
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
        let decision = context.policies.evaluate(request)
        if case .permit(let grant, _) = decision { return grant }
        let reasons = decision.reasons
        context.observe(BrokerSignal(code: "task_denied", workload: task.workload, task: task.id, taskType: task.type))
        try await recordDenial(
            reasons,
            AuditEvent(
                "token.denied",
                actor: task.workload.description,
                subject: task.id,
                detail: .object(["task": .string(task.id), "workload": .string(task.workload.description)])
            )
        )
        throw BrokerError(
            .invalidGrant,
            "the policy no longer allows this task: " + (reasons.first?.message ?? "denied"),
            reasons: reasons
        )
    }

    /// Counts a policy denial's reasons and audits it, with the reasons added to the event's detail.
    private func recordDenial(_ reasons: [DenialReason], _ event: AuditEvent) async throws(BrokerError) {
        for reason in reasons { context.metrics.denied(reason.code.rawValue) }
        var event = event
        if case .object(var members) = event.detail {
            members["reasons"] = .array(reasons.map(\.json))
            event.detail = .object(members)
        }
        try await context.audit(event, in: audit)
    }
}
