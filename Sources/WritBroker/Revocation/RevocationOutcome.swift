public import WritAPI
public import WritToken

/// What an operator's revocation did.
public struct RevocationOutcome: Sendable, Hashable {
    /// The feed entries made.
    public let revocations: [Revocation]
    /// The ids of the tasks closed.
    public let closedTasks: [String]
    /// How many tasks were closed.
    public var tasks: Int { closedTasks.count }
    /// The unexpired tokens it newly covers (tokens of already-closed tasks were revoked with their task).
    public let tokens: Int

    /// What the admin API answers.
    public var wire: RevocationOutcomeResponse {
        RevocationOutcomeResponse(
            revocations: revocations,
            sequence: Int64(revocations.map(\.sequence).max() ?? 0),
            tasksClosed: closedTasks,
            tokensCovered: Int64(tokens)
        )
    }

    /// The audit entries of an operator's revocation: the entry, then each task it closed.
    public static func auditEvents(_ revocation: Revocation, closing closed: [String], actor: String) -> [AuditEvent] {
        [
            AuditEvent(
                "revocation.created",
                actor: actor,
                subject: String(revocation.sequence),
                detail: .object(["entry": revocation.json, "tasks_closed": .integer(Int64(closed.count))])
            )
        ]
            + closed.map { id in
                AuditEvent(
                    "task.aborted",
                    actor: actor,
                    subject: id,
                    detail: .object(["reason": .string("covered by revocation \(revocation.sequence)")])
                )
            }
    }
}

/// What lifting a revocation did.
public struct RevocationLift: Sendable, Hashable {
    /// The lift's own feed entry.
    public let entry: Revocation
    /// The workload or user entry it lifts.
    public let lifted: Revocation
    /// False when the entry had been lifted before and this is that earlier lift.
    public let isNew: Bool

    /// What the admin API answers.
    public var wire: RevocationLiftResponse {
        RevocationLiftResponse(revocation: entry, lifted: lifted, sequence: Int64(entry.sequence), isNew: isNew)
    }

    /// The audit entry of a new lift.
    public func auditEvent(reason: String, actor: String) -> AuditEvent {
        AuditEvent(
            "revocation.lifted",
            actor: actor,
            subject: String(lifted.sequence),
            detail: .object(["entry": entry.json, "lifted": lifted.json, "reason": .string(reason)])
        )
    }
}
