public import Foundation
public import WritPolicy
public import WritToken

extension BrokerTask {
    /// A new open task as the policy granted it, for `user` (the task service passes a sub-task its parent's): a
    /// sub-task sits below its parent, carries its parent's chain of actors, and ends no later than its parent.
    public init(
        opening descriptor: TaskDescriptor,
        id: String,
        acting: WorkloadIdentity,
        createdBy creator: SPIFFEID,
        user: UserClaims?,
        grant: Grant,
        parent: BrokerTask?,
        now: Date
    ) {
        // An implicit task ends with its one token.
        var deadline = now.addingTimeInterval(
            descriptor.implicit ? min(grant.taskDuration, grant.tokenLifetime) : grant.taskDuration
        )
        if let parent { deadline = min(deadline, parent.deadline) }
        self.init(
            id: id,
            parentID: parent?.id,
            rootID: parent?.rootID ?? id,
            depth: parent.map { $0.depth + 1 } ?? 0,
            workload: acting.id,
            actors: parent.map { [$0.workload] + $0.actors } ?? [],
            createdBy: creator,
            attestation: acting.attestation,
            user: user,
            type: descriptor.type,
            purpose: descriptor.purpose,
            grant: grant,
            state: .open,
            reason: nil,
            createdAt: now,
            deadline: deadline,
            heartbeatInterval: descriptor.heartbeatInterval,
            lastHeartbeat: descriptor.heartbeatInterval == nil ? nil : now,
            closedAt: nil,
            implicit: descriptor.implicit
        )
    }

    /// What the audit log records of a new task.
    var auditDetail: JSONValue {
        var members: [String: JSONValue] = [
            "type": .string(type), "workload": .string(workload.description),
            "user": user?.subject.map(JSONValue.string) ?? .null,
            "parent": parentID.map(JSONValue.string) ?? .null,
            "grant": grant.json, "deadline": .integer(deadline.numericDate),
        ]
        if implicit { members["implicit"] = .bool(true) }
        return .object(members)
    }
}
