import Foundation
import GRDB
import WritToken

/// ``RevocationStore`` over the SQLite database.
struct SQLiteRevocationStore: RevocationStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func insert(
        _ subject: RevocationSubject,
        revokedAt: Date,
        retainUntil: Date,
        actor: String
    ) async throws
        -> Revocation
    {
        try await database.write { db in
            try RevocationRows.insert(db, subject, revokedAt: revokedAt, retainUntil: retainUntil, actor: actor)
        }
    }

    func insert(contentsOf entries: [Revocation], actor: String) async throws {
        try await database.write { db in
            for entry in entries {
                _ = try RevocationRows.insert(
                    db,
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
        try await database.write { db in try Self.revoke(db, subject, actor: actor, at: now, retention: retention) }
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
        try await database.write { db in
            guard
                try ProofRows.insert(
                    db,
                    keyThumbprint: event.keyThumbprint,
                    proofID: event.id,
                    expiresAt: event.expiresAt
                )
            else { return .replayed }
            return try Self.revoke(db, subject, actor: actor, at: now, retention: retention)
        }
    }

    private static func revoke(
        _ db: Database,
        _ subject: RevocationSubject,
        actor: String,
        at now: Date,
        retention: TimeInterval
    ) throws -> RevocationWrite {
        var retain = now.addingTimeInterval(retention)
        var closed: [String] = []
        var tokens = 0
        switch subject {
        case .token(let id):
            guard let record = try TokenRows.fetch(db, id: id) else { return .unknownToken }
            // Revoking a token twice is answered with the entry made the first time (a token entry lasts
            // as long as the token, so it is still in the feed).
            if let earlier = try RevocationRows.fetchFirst(db, kind: "token", subject: id) {
                return .revoked(RevocationOutcome(revocations: [earlier], closedTasks: [], tokens: 0))
            }
            retain = max(record.expiresAt, now)
            tokens = try TokenRows.countLive(db, id: id, now: now)
            try StatusRows.markRevoked(db, tokenID: id)
        case .workload(let workload):
            // Its open tasks close with every sub-task below them (delegates' tasks carry the workload in
            // `act`, so the one entry covers their tokens too). Tokens of closed tasks were revoked with
            // their task; the open tasks' tokens are the new news.
            var open: [String] = []
            for id in try TaskRows.listOpen(db, workload: workload) where !open.contains(id) {
                open += try TaskRows.openSubtree(db, root: id).filter { !open.contains($0) }
            }
            tokens = try TokenRows.countLive(db, taskIDs: open, now: now)
            closed = try TaskRows.close(db, ids: open, state: .aborted, reason: "workload revoked", at: now)
        case .user(let user):
            let open = try TaskRows.listOpen(db, user: user)
            tokens = try TokenRows.countLive(db, taskIDs: open, now: now)
            closed = try TaskRows.close(db, ids: open, state: .aborted, reason: "user revoked", at: now)
        case .issuedBefore(let cutoff, let scope):
            guard cutoff <= now.addingTimeInterval(60) else { return .futureCutoff }
            // The tokens it covers were issued before its cutoff (rounded up, up to a minute ahead), so they
            // all expire within `retention` of it.
            retain = Revocation.cutoff(cutoff).addingTimeInterval(retention)
            tokens = try TokenRows.countLive(db, issuedBefore: Revocation.cutoff(cutoff), scope: scope, now: now)
            try StatusRows.markRevoked(db, issuedBefore: Revocation.cutoff(cutoff), scope: scope, now: now)
        case .task, .key, .lift: return .notThisWay
        }
        let revocation = try RevocationRows.insert(db, subject, revokedAt: now, retainUntil: retain, actor: actor)
        for event in RevocationOutcome.auditEvents(revocation, closing: closed, actor: actor) {
            try AuditRows.append(db, event, at: now)
        }
        return .revoked(RevocationOutcome(revocations: [revocation], closedTasks: closed, tokens: tokens))
    }

    func lift(_ sequence: UInt64, reason: String, actor: String, at now: Date) async throws -> LiftWrite {
        try await database.write { db in
            guard let lifted = try RevocationRows.fetch(db, sequence: sequence), lifted.retainUntil > now else {
                return .notFound
            }
            switch lifted.subject {
            case .workload, .user: break
            default: return .notLiftable(lifted)
            }
            if let earlier = try RevocationRows.fetchLift(db, of: sequence) {
                return .lifted(RevocationLift(entry: earlier, lifted: lifted, isNew: false))
            }
            let entry = try RevocationRows.insert(
                db,
                .lift(sequence, from: now),
                revokedAt: now,
                retainUntil: lifted.retainUntil,
                actor: actor
            )
            let lift = RevocationLift(entry: entry, lifted: lifted, isNew: true)
            try AuditRows.append(db, lift.auditEvent(reason: reason, actor: actor), at: now)
            return .lifted(lift)
        }
    }

    func page(after sequence: UInt64, limit: Int) async throws -> RevocationPage {
        try await database.read { db in
            RevocationPage(
                entries: try RevocationRows.list(db, after: sequence, limit: limit),
                first: try RevocationRows.firstSequence(db),
                last: try RevocationRows.lastSequence(db)
            )
        }
    }

    func list(after sequence: UInt64, limit: Int) async throws -> [Revocation] {
        try await database.read { db in try RevocationRows.list(db, after: sequence, limit: limit) }
    }

    func snapshot(now: Date) async throws -> RevocationSnapshot {
        try await database.read { db in
            RevocationSnapshot(
                first: try RevocationRows.firstSequence(db),
                last: try RevocationRows.lastSequence(db),
                standing: try RevocationRows.listStanding(db, now: now)
            )
        }
    }

    func prune(before cutoff: Date, through last: UInt64, limit: Int) async throws -> Int {
        try await database.write { db in try RevocationRows.prune(db, before: cutoff, through: last, limit: limit) }
    }
}
