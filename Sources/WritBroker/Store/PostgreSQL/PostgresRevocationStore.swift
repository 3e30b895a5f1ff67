import Foundation
import PostgresNIO
import WritToken

/// The revocation feed on PostgreSQL: one gapless sequence in commit order across every broker.
struct PostgresRevocationStore: RevocationStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func insert(
        _ subject: RevocationSubject,
        revokedAt: Date,
        retainUntil: Date,
        actor: String
    ) async throws
        -> Revocation
    {
        try await database.write { session in
            try await PostgresRevocationRows.insert(
                session,
                subject,
                revokedAt: revokedAt,
                retainUntil: retainUntil,
                actor: actor
            )
        }
    }

    func insert(contentsOf entries: [Revocation], actor: String) async throws {
        try await database.write { session in
            for entry in entries {
                _ = try await PostgresRevocationRows.insert(
                    session,
                    entry.subject,
                    revokedAt: entry.revokedAt,
                    retainUntil: entry.retainUntil,
                    actor: actor
                )
            }
        }
    }

    func revoke(
        _ subject: RevocationSubject,
        actor: String,
        at now: Date,
        retention: TimeInterval
    ) async throws
        -> RevocationWrite
    {
        try await database.write { session in
            try await Self.revoke(session, subject, actor: actor, at: now, retention: retention)
        }
    }

    func revoke(
        _ subject: RevocationSubject,
        actor: String,
        at now: Date,
        retention: TimeInterval,
        once event: UsedProof
    ) async throws
        -> RevocationWrite
    {
        try await database.write { session in
            guard try await PostgresTokenRows.insertProof(session, event) else { return .replayed }
            return try await Self.revoke(session, subject, actor: actor, at: now, retention: retention)
        }
    }

    /// Aborts open tasks: the ids closed and how many live tokens they held.
    private static func abort(
        _ session: PostgresSession,
        _ open: [String],
        reason: String,
        at now: Date
    ) async throws -> (closed: [String], tokens: Int) {
        let tokens = try await PostgresTokenRows.countLive(session, taskIDs: open, now: now)
        let closed = try await PostgresTaskRows.close(session, ids: open, state: .aborted, reason: reason, at: now)
        return (closed, tokens)
    }

    private static func revoke(
        _ session: PostgresSession,
        _ subject: RevocationSubject,
        actor: String,
        at now: Date,
        retention: TimeInterval
    ) async throws -> RevocationWrite {
        var retain = now.addingTimeInterval(retention)
        var closed: [String] = []
        var tokens = 0
        switch subject {
        case .token(let id):
            guard let record = try await PostgresTokenRows.fetch(session, id: id) else { return .unknownToken }
            // Revoking a token twice is answered with the entry made the first time.
            if let earlier = try await PostgresRevocationRows.fetchFirst(session, kind: "token", subject: id) {
                return .revoked(RevocationOutcome(revocations: [earlier], closedTasks: [], tokens: 0))
            }
            retain = max(record.expiresAt, now)
            tokens = try await PostgresTokenRows.countLive(session, id: id, now: now)
            try await PostgresStatusRows.markRevoked(session, tokenID: id)
        case .workload(let workload):
            // Its open tasks close with every sub-task below them.
            var open: [String] = []
            for id in try await PostgresTaskRows.listOpen(session, workload: workload) where !open.contains(id) {
                open += try await PostgresTaskRows.openSubtree(session, root: id).filter { !open.contains($0) }
            }
            (closed, tokens) = try await abort(session, open, reason: "workload revoked", at: now)
        case .user(let user):
            let open = try await PostgresTaskRows.listOpen(session, user: user)
            (closed, tokens) = try await abort(session, open, reason: "user revoked", at: now)
        case .issuedBefore(let cutoff, let scope):
            guard cutoff <= now.addingTimeInterval(60) else { return .futureCutoff }
            retain = Revocation.cutoff(cutoff).addingTimeInterval(retention)
            tokens = try await PostgresTokenRows.countLive(
                session,
                issuedBefore: Revocation.cutoff(cutoff),
                scope: scope,
                now: now
            )
            try await PostgresStatusRows.markRevoked(
                session,
                issuedBefore: Revocation.cutoff(cutoff),
                scope: scope,
                now: now
            )
        case .task, .key, .lift: return .notThisWay
        }
        let revocation = try await PostgresRevocationRows.insert(
            session,
            subject,
            revokedAt: now,
            retainUntil: retain,
            actor: actor
        )
        for event in RevocationOutcome.auditEvents(revocation, closing: closed, actor: actor) {
            try await PostgresAuditRows.append(session, event, at: now)
        }
        return .revoked(RevocationOutcome(revocations: [revocation], closedTasks: closed, tokens: tokens))
    }

    func lift(_ sequence: UInt64, reason: String, actor: String, at now: Date) async throws -> LiftWrite {
        try await database.write { session in
            guard let lifted = try await PostgresRevocationRows.fetch(session, sequence: sequence),
                lifted.retainUntil > now
            else { return .notFound }
            switch lifted.subject {
            case .workload, .user: break
            default: return .notLiftable(lifted)
            }
            if let earlier = try await PostgresRevocationRows.fetchFirst(
                session,
                kind: "lift",
                subject: String(sequence)
            ) {
                return .lifted(RevocationLift(entry: earlier, lifted: lifted, isNew: false))
            }
            let entry = try await PostgresRevocationRows.insert(
                session,
                .lift(sequence, from: now),
                revokedAt: now,
                retainUntil: lifted.retainUntil,
                actor: actor
            )
            let lift = RevocationLift(entry: entry, lifted: lifted, isNew: true)
            try await PostgresAuditRows.append(session, lift.auditEvent(reason: reason, actor: actor), at: now)
            return .lifted(lift)
        }
    }

    func page(after sequence: UInt64, limit: Int) async throws -> RevocationPage {
        try await database.read { session in
            RevocationPage(
                entries: try await PostgresRevocationRows.list(session, after: sequence, limit: limit),
                first: try await PostgresRevocationRows.firstSequence(session),
                last: try await PostgresRevocationRows.lastSequence(session)
            )
        }
    }

    func list(after sequence: UInt64, limit: Int) async throws -> [Revocation] {
        try await database.read { session in
            try await PostgresRevocationRows.list(session, after: sequence, limit: limit)
        }
    }

    func snapshot(now: Date) async throws -> RevocationSnapshot {
        try await database.read { session in
            RevocationSnapshot(
                first: try await PostgresRevocationRows.firstSequence(session),
                last: try await PostgresRevocationRows.lastSequence(session),
                standing: try await PostgresRevocationRows.listStanding(session, now: now)
            )
        }
    }

    func prune(before cutoff: Date, through last: UInt64, limit: Int) async throws -> Int {
        try await database.write { session in
            try await PostgresRevocationRows.prune(session, before: cutoff, through: last, limit: limit)
        }
    }
}
