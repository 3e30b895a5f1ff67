import Foundation
import GRDB
import Synchronization
public import WritPolicy
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

    /// The response body.
    public var json: JSONValue {
        .object([
            "revocations": .array(revocations.map(\.json)),
            "sequence": .integer(Int64(revocations.map(\.sequence).max() ?? 0)),
            "tasks_closed": .integer(Int64(tasks)),
            "tokens_covered": .integer(Int64(tokens)),
        ])
    }
}

extension Broker {
    /// Revokes on an operator's behalf. A task revocation closes the task and its sub-tasks (one entry each);
    /// a workload or user revocation also aborts their open tasks and refuses new ones until it lapses; a
    /// token revocation covers one `jti`; an issued-before revocation covers every earlier token. Returns once
    /// the entries are durable.
    public func revoke(_ subject: RevocationSubject, by actor: String) async throws(BrokerError) -> RevocationOutcome {
        let now = clock.now
        if case .task(let id) = subject {
            guard let closure = try await close(id, .abort, actor: actor, reason: "revoked by \(actor)") else {
                let exists = try await task(id: id) != nil
                throw exists
                    ? BrokerError(.taskClosed, "the task is already closed; its tokens were revoked then")
                    : BrokerError(.notFound, "no task \(id.prefix(64))")
            }
            return RevocationOutcome(
                revocations: closure.revocations,
                closedTasks: closure.tasks,
                tokens: closure.liveTokens
            )
        }
        let horizon = now.addingTimeInterval(settings.maximumTokenLifetime)
        let maximumLifetime = settings.maximumTokenLifetime
        let outcome: RevocationOutcome = try await write("revoke") { db in
            var retain = horizon
            var closed: [String] = []
            var tokens = 0
            switch subject {
            case .token(let id):
                guard let record = try TokenStore.fetch(db, id: id) else {
                    throw BrokerError(.notFound, "no token \(id.prefix(64)) is recorded (it may have expired)")
                }
                // Revoking a token twice is answered with the entry made the first time (a token entry lasts
                // as long as the token, so it is still in the feed).
                if let earlier = try Int64.fetchOne(
                    db,
                    sql: "SELECT seq FROM revocations WHERE kind = 'token' AND subject = ? ORDER BY seq LIMIT 1",
                    arguments: [id]
                ), let entry = try RevocationStore.list(db, after: UInt64(earlier - 1), limit: 1).first {
                    return RevocationOutcome(revocations: [entry], closedTasks: [], tokens: 0)
                }
                retain = max(record.expiresAt, now)
                tokens =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id "
                            + "WHERE k.jti = ? AND k.expires_at > ? AND t.state = 'open' AND NOT \(TokenStore.revokedCondition)",
                        arguments: [id, now.numericDate]
                    ) ?? 0
            case .workload(let workload):
                // Its open tasks close with every sub-task below them (delegates' tasks carry the workload in
                // `act`, so the one entry covers their tokens too). Tokens of closed tasks were revoked with
                // their task; the open tasks' tokens are the new news.
                var open: [String] = []
                for id in try TaskStore.listOpen(db, workload: workload) where !open.contains(id) {
                    open += try TaskStore.openSubtree(db, root: id).filter { !open.contains($0) }
                }
                tokens = try TokenStore.countLive(db, taskIDs: open, now: now)
                closed = try TaskStore.close(db, ids: open, state: .aborted, reason: "workload revoked", at: now)
            case .user(let user):
                let open = try TaskStore.listOpen(db, user: user)
                tokens = try TokenStore.countLive(db, taskIDs: open, now: now)
                closed = try TaskStore.close(db, ids: open, state: .aborted, reason: "user revoked", at: now)
            case .issuedBefore(let cutoff, let scope):
                guard cutoff <= now.addingTimeInterval(60) else {
                    throw BrokerError(.invalidRequest, "before is in the future; revoke what exists, not what may come")
                }
                retain = min(cutoff, now).addingTimeInterval(maximumLifetime)
                tokens =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM tokens AS k JOIN tasks AS t ON t.id = k.task_id "
                            + "WHERE k.issued_at < ? AND k.expires_at > ? AND (? IS NULL OR k.workload = ? OR "
                            + TokenStore.actingWorkload("?") + ") "
                            + "AND t.state = 'open' AND NOT \(TokenStore.revokedCondition)",
                        arguments: [
                            Revocation.cutoff(cutoff).numericDate, now.numericDate, scope?.description,
                            scope?.description, scope?.description,
                        ]
                    ) ?? 0
            case .task: break
            case .key, .lift:
                throw BrokerError(
                    .invalidRequest,
                    "keys are retired by an immediate rotation, and entries lifted with their own route"
                )
            }
            let revocation = try RevocationStore.insert(db, subject, revokedAt: now, retainUntil: retain, actor: actor)
            try AuditLog.append(
                db,
                event: "revocation.created",
                actor: actor,
                subject: String(revocation.sequence),
                detail: .object(["entry": revocation.json, "tasks_closed": .integer(Int64(closed.count))]),
                at: now
            )
            for id in closed {
                try AuditLog.append(
                    db,
                    event: "task.aborted",
                    actor: actor,
                    subject: id,
                    detail: .object(["reason": .string("covered by revocation \(revocation.sequence)")]),
                    at: now
                )
            }
            return RevocationOutcome(revocations: [revocation], closedTasks: closed, tokens: tokens)
        }
        openTasks.withLock { cache in
            for id in outcome.closedTasks { cache.removeValue(forKey: id) }
        }
        for revocation in outcome.revocations { metrics.revoked(kind: Self.kind(revocation.subject)) }
        await publishRevocations()
        return outcome
    }

    /// RFC 7009: a workload revokes a token it holds. Tokens that are not valid, or not the caller's, are
    /// ignored (the RFC answers 200 either way, so nothing is learned about other workloads' tokens).
    public func revokeOwnToken(_ token: String, by caller: WorkloadIdentity) async throws(BrokerError) {
        guard let claims = verifyOwnToken(token, now: clock.now), claims.clientID == caller.id else { return }
        do {
            _ = try await revoke(.token(claims.tokenID), by: caller.id.description)
        } catch  where error.code == .notFound {
            return
        }
    }

    static func kind(_ subject: RevocationSubject) -> String {
        switch subject {
        case .task: return "task"
        case .token: return "token"
        case .workload: return "workload"
        case .user: return "user"
        case .issuedBefore: return "issued_before"
        case .key: return "key"
        case .lift: return "lift"
        }
    }
}
