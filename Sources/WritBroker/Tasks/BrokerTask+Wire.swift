public import Foundation
public import WritAPI
public import WritPolicy
import WritToken

extension BrokerTask {
    /// The task as the API sends it.
    public var wire: TaskBody {
        var body = TaskBody(
            id: id,
            rootID: rootID,
            depth: Int64(depth),
            workload: workload.description,
            actors: actors.map(\.description),
            createdBy: createdBy.description,
            attestation: TaskBody.Attestation(rawValue: attestation.rawValue) ?? .jwtSVID,
            type: type,
            grant: grant.wire,
            state: TaskBody.State(rawValue: state.rawValue) ?? .open,
            createdAt: createdAt.numericDate,
            deadline: deadline.numericDate
        )
        body.parentID = parentID
        body.user = user?.subject
        body.purpose = purpose
        body.reason = reason
        body.heartbeatInterval = heartbeatInterval.map { Int64($0) }
        body.lastHeartbeat = lastHeartbeat?.numericDate
        body.closedAt = closedAt?.numericDate
        body.implicit = implicit ? true : nil
        return body
    }
}

extension Grant {
    /// The grant as the API sends it.
    public var wire: GrantBody {
        GrantBody(
            authorizationDetails: authorizationDetails,
            taskDuration: Int64(taskDuration.rounded(.down)),
            tokenLifetime: Int64(tokenLifetime.rounded(.down)),
            delegationDepth: Int64(delegationDepth),
            bearerTokens: bearerTokensAllowed
        )
    }
}

extension TaskClosure {
    /// What closing a task answers.
    public var wire: TaskClosureResponse {
        TaskClosureResponse(
            state: TaskBody.State(rawValue: state.rawValue) ?? .aborted,
            tasksClosed: tasks,
            revocations: revocations,
            sequence: Int64(revocations.map(\.sequence).max() ?? 0)
        )
    }
}

extension TaskSummary {
    /// A task in an operator's listing.
    public var wire: TaskSummaryBody {
        TaskSummaryBody(task: task.wire, tokens: Int64(tokens), liveTokens: Int64(liveTokens))
    }
}

extension WorkloadActivity {
    /// A workload in an operator's listing.
    public var wire: WorkloadActivityBody {
        WorkloadActivityBody(
            workload: workload,
            openTasks: Int64(openTasks),
            tasks: Int64(tasks),
            liveTokens: Int64(liveTokens),
            lastTaskAt: lastTask?.numericDate
        )
    }
}

extension TaskTree {
    /// The tree as the admin API sends it.
    public func wire(time: Date) -> TaskTreeResponse {
        TaskTreeResponse(
            tasks: tasks.map(\.wire),
            tokens: tokens.map { $0.token.wire(revoked: $0.revoked) },
            time: time.numericDate
        )
    }
}

extension IssuedToken {
    /// The record as the admin API sends it: the binding's kind, not its key.
    public func wire(revoked: Bool) -> IssuedTokenBody {
        IssuedTokenBody(
            jti: id,
            taskID: taskID,
            workload: workload,
            sub: subject,
            aud: audience,
            iat: issuedAt.numericDate,
            exp: expiresAt.numericDate,
            binding: IssuedTokenBody.Binding(rawValue: String(binding.prefix { $0 != ":" })) ?? .bearer,
            revoked: revoked
        )
    }
}
