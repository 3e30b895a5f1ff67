import Foundation
public import WritPolicy
public import WritToken

/// The revocation verbs: an operator revokes a task, workload, user, token or issuance time, lifts a mistaken
/// workload or user entry; a workload revokes a token it holds (RFC 7009). Each returns once its entries are
/// durable, and publishes them to the feed.
public final class RevocationService: Sendable {
    let context: BrokerContext
    let store: any RevocationStore
    let tasks: TaskService
    let tokens: any TokenStore
    let feed: RevocationFeed
    let ownTokens: @Sendable (String, Date) -> AccessTokenClaims?

    init(
        context: BrokerContext,
        store: any RevocationStore,
        tasks: TaskService,
        tokens: any TokenStore,
        feed: RevocationFeed,
        ownTokens: @escaping @Sendable (String, Date) -> AccessTokenClaims?
    ) {
        self.context = context
        self.store = store
        self.tasks = tasks
        self.tokens = tokens
        self.feed = feed
        self.ownTokens = ownTokens
    }

    /// Revokes on an operator's behalf. A task revocation closes the task and its sub-tasks (one entry each);
    /// a workload or user revocation also aborts their open tasks and refuses new ones until it lapses; a
    /// token revocation covers one `jti` (and ends its task when the task was made for that one token); an
    /// issued-before revocation covers every earlier token.
    public func revoke(_ subject: RevocationSubject, by actor: String) async throws(BrokerError) -> RevocationOutcome {
        if case .task(let id) = subject { return try await revokeTask(id, by: actor) }
        if case .token(let id) = subject, let task = try await implicitTask(ofToken: id) {
            // The implicit task lasts as long as its one token: closing it revokes the token with it.
            if let closure = try await tasks.close(
                task,
                .abort,
                actor: actor,
                reason: "its token was revoked by \(actor)"
            ) {
                return RevocationOutcome(
                    revocations: closure.revocations,
                    closedTasks: closure.tasks,
                    tokens: closure.liveTokens
                )
            }
        }
        let now = context.clock.now
        let retention = context.settings.maximumTokenLifetime
        let written = try await context.store("revoke") {
            try await store.revoke(subject, actor: actor, at: now, retention: retention)
        }
        return try await applied(written, subject)
    }

    /// How long a quarantine's workload entry stands unless an operator lifts it: in practice, until released.
    static let quarantineRetention: TimeInterval = 10 * 365 * 86_400

    /// Quarantines a workload: a workload entry that refuses its new tasks and tokens and revokes every live
    /// one (its open tasks abort), standing until an operator lifts it rather than lapsing.
    public func quarantine(_ workload: SPIFFEID, by actor: String) async throws(BrokerError) -> RevocationOutcome {
        let now = context.clock.now
        let written = try await context.store("quarantine") {
            try await store.revoke(.workload(workload), actor: actor, at: now, retention: Self.quarantineRetention)
        }
        return try await applied(written, .workload(workload))
    }

    /// Revokes a workload or user once for a received event (a Shared Signals event's transmitter and `jti`):
    /// nil when that event was processed before, and nothing is written again.
    public func revoke(
        _ subject: RevocationSubject,
        by actor: String,
        once event: UsedProof
    ) async throws(BrokerError) -> RevocationOutcome? {
        let now = context.clock.now
        let retention = context.settings.maximumTokenLifetime
        let written = try await context.store("revoke") {
            try await store.revoke(subject, actor: actor, at: now, retention: retention, once: event)
        }
        if case .replayed = written { return nil }
        return try await applied(written, subject)
    }

    private func applied(
        _ written: RevocationWrite,
        _ subject: RevocationSubject
    ) async throws(BrokerError) -> RevocationOutcome {
        switch written {
        case .revoked(let outcome):
            tasks.forget(outcome.closedTasks)
            for revocation in outcome.revocations { context.metrics.revoked(kind: Self.kind(revocation.subject)) }
            await feed.publish(logger: context.logger)
            return outcome
        case .unknownToken:
            let id = if case .token(let id) = subject { id } else { "" }
            throw BrokerError(.notFound, "no token \(id.prefix(64)) is recorded (it may have expired)")
        case .futureCutoff:
            throw BrokerError(.invalidRequest, "before is in the future; revoke what exists, not what may come")
        case .notThisWay:
            throw BrokerError(
                .invalidRequest,
                "keys are retired by an immediate rotation, and entries lifted with their own route"
            )
        case .replayed:
            throw BrokerError(.internalError, "the revocation was refused as a replay")
        }
    }

    /// The open implicit task a token was issued for, if it was.
    private func implicitTask(ofToken id: String) async throws(BrokerError) -> String? {
        guard let record = try await context.store("token lookup", { try await tokens.fetch(id: id) }),
            let task = try await tasks.fetch(id: record.taskID), task.implicit, task.state == .open
        else { return nil }
        return task.id
    }

    private func revokeTask(_ id: String, by actor: String) async throws(BrokerError) -> RevocationOutcome {
        guard let closure = try await tasks.close(id, .abort, actor: actor, reason: "revoked by \(actor)") else {
            throw try await tasks.fetch(id: id) != nil
                ? BrokerError(.taskClosed, "the task is already closed; its tokens were revoked then")
                : BrokerError(.notFound, "no task \(id.prefix(64))")
        }
        return RevocationOutcome(
            revocations: closure.revocations,
            closedTasks: closure.tasks,
            tokens: closure.liveTokens
        )
    }

    /// Lifts a mistaken workload or user revocation from now on: new tasks and tokens are allowed again, while
    /// tokens issued before the lift stay revoked. Lifting twice answers with the first lift.
    public func lift(_ sequence: UInt64, reason: String, by actor: String) async throws(BrokerError) -> RevocationLift {
        let now = context.clock.now
        let written = try await context.store("lift revocation") {
            try await store.lift(sequence, reason: reason, actor: actor, at: now)
        }
        switch written {
        case .lifted(let lift):
            if lift.isNew {
                context.metrics.revoked(kind: "lift")
                await feed.publish(logger: context.logger)
            }
            return lift
        case .notFound:
            throw BrokerError(.notFound, "no entry \(sequence) is in the feed (it may have lapsed)")
        case .notLiftable(let entry):
            throw BrokerError(
                .invalidRequest,
                "only workload and user entries can be lifted; entry \(sequence) is a \(Self.kind(entry.subject))"
            )
        }
    }

    /// RFC 7009: a workload revokes a token it holds. Tokens that are not valid, or not the caller's, are
    /// ignored (the RFC answers 200 either way, so nothing is learned about other workloads' tokens).
    public func revokeOwnToken(_ token: String, by caller: WorkloadIdentity) async throws(BrokerError) {
        guard let claims = ownTokens(token, context.clock.now), claims.clientID == caller.id else { return }
        do {
            _ = try await revoke(.token(claims.tokenID), by: caller.id.description)
        } catch {
            guard error.code == .notFound else { throw error }
        }
    }

    /// A page of the feed. Refuses a resume point beyond the last sequence this feed ever gave: the caller followed another feed (a
    /// database restored from an older backup, another deployment), and resuming would silently skip this feed's
    /// entries up to its number. It must drop what it holds and start again from 0.
    public func page(after sequence: UInt64, limit: Int) async throws(BrokerError) -> RevocationPage {
        let page = try await context.store("revocation page") { try await store.page(after: sequence, limit: limit) }
        guard sequence <= page.last else {
            throw BrokerError(
                .invalidRequest,
                "entry \(sequence) is beyond this feed's last (\(page.last)): this is not the feed you followed (a "
                    + "restored or another database); drop the revocations you hold and start again from 0"
            )
        }
        return page
    }

    /// The name of an entry's kind, as metrics and messages use it.
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
