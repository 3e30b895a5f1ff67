import Foundation
import PostgresNIO
import WritToken

extension PostgresDatabase {
    /// Copies a whole store into this database, which must hold no records, in one transaction (all or
    /// nothing), then reads it back and checks the copy: the same number of each record, the same feed entry
    /// by entry, and the audit chain ending where the source's ends. Throws what differs.
    public func load(_ dump: StoreDump) async throws {
        _ = try await transaction(begin: "BEGIN", lock: Self.writeLock) { session in
            let held = try await session.integer(
                """
                SELECT (SELECT COUNT(*) FROM tasks) + (SELECT COUNT(*) FROM tokens) + (SELECT COUNT(*) FROM revocations)
                    + (SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM signing_keys)
                    + (SELECT COUNT(*) FROM operators) + (SELECT SUM(last) FROM writ_sequences)::bigint
                """
            )
            guard held == 0 else {
                throw PostgresStoreError(
                    code: nil,
                    description: "the database already holds records; copy into a new, empty database"
                )
            }
            try await Self.insert(dump, into: session)
            return true
        }
        try await check(dump)
    }

    private static func insert(_ dump: StoreDump, into session: PostgresSession) async throws {
        for task in dump.tasks { try await PostgresTaskRows.insert(session, task) }
        for token in dump.tokens { try await PostgresTokenRows.insert(session, token) }
        for (entry, actor) in dump.revocations {
            try await PostgresRevocationRows.insert(session, copying: entry, actor: actor)
        }
        for entry in dump.audit {
            try await session.execute(
                """
                INSERT INTO audit (seq, at_ms, event, actor, subject, detail, prev_hash, hash)
                VALUES (\(entry.sequence), \(entry.milliseconds), \(entry.event), \(entry.actor), \(entry.subject),
                    \(JSONWriter.string(entry.detail)), \(entry.previousHash), \(entry.hash))
                """
            )
        }
        if let anchor = dump.auditAnchor {
            try await session.execute(
                "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, \(anchor.sequence), \(anchor.hash))"
            )
        }
        for key in dump.keys {
            try await session.execute(
                """
                INSERT INTO signing_keys (kid, algorithm, file, created_at, activates_at, retires_at, retired_at)
                VALUES (\(key.id), \(key.algorithm), \(key.file), \(StoredTime.milliseconds(key.createdAt)),
                    \(key.activatesAt.map(StoredTime.milliseconds)), \(key.retiresAt.map(StoredTime.milliseconds)),
                    \(key.retiredAt.map(StoredTime.milliseconds)))
                """
            )
        }
        for record in dump.operators {
            try await session.execute(
                """
                INSERT INTO operators (id, name, role, hash, created_at, revoked_at)
                VALUES (\(record.id), \(record.name), \(record.role.rawValue), \(record.hash),
                    \(StoredTime.milliseconds(record.createdAt)), \(record.revokedAt.map(StoredTime.milliseconds)))
                """
            )
        }
        for proof in dump.proofs {
            try await session.execute(
                "INSERT INTO dpop_proofs (expires_at, proof) VALUES (\(proof.expiresAt), \(proof.digest))"
            )
        }
        try await PostgresStatusRows.insert(session, copying: dump.statusLists, revoked: dump.revokedTokens)
        for stream in dump.signalStreams { try await PostgresSignalStreamStore.insert(session, stream) }
        for alert in dump.alerts { try await PostgresMonitoringStore.insert(session, alert, keepingID: true) }
        for baseline in dump.baselines { try await PostgresMonitoringStore.save(session, baseline) }
        if let last = dump.alerts.last {
            try await session.execute("SELECT setval('monitoring_alerts_id_seq', \(last.id))")
        }
        try await session.execute(
            "UPDATE writ_sequences SET last = \(Int64(dump.revocationsLast)) WHERE name = 'revocations'"
        )
        try await session.execute("UPDATE writ_sequences SET last = \(dump.auditLast) WHERE name = 'audit'")
    }

    /// Reads the copy back and compares it with its source.
    private func check(_ dump: StoreDump) async throws {
        let problems: [String] = try await read { session in
            var problems: [String] = []
            let tables: [(String, Int)] = [
                ("tasks", dump.tasks.count), ("tokens", dump.tokens.count), ("revocations", dump.revocations.count),
                ("audit", dump.audit.count), ("signing_keys", dump.keys.count), ("operators", dump.operators.count),
                ("dpop_proofs", dump.proofs.count), ("status_lists", dump.statusLists.count),
                ("ssf_streams", dump.signalStreams.count), ("monitoring_alerts", dump.alerts.count),
                ("usage_baselines", dump.baselines.count),
            ]
            for (table, expected) in tables {
                let stored = try await session.integer(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)")) ?? 0
                if stored != expected { problems.append("\(table): \(stored) stored, \(expected) in the source") }
            }
            if try await PostgresStatusRows.all(session) != dump.statusLists {
                problems.append("the status lists differ from the source's")
            }
            let revoked = try await session.strings(
                "SELECT jti FROM tokens WHERE status = 1 ORDER BY jti COLLATE \"C\""
            )
            if revoked != dump.revokedTokens { problems.append("the revoked tokens differ from the source's") }
            let feed = try await PostgresRevocationRows.list(session, after: 0, limit: Int.max / 2)
            if feed != dump.revocations.map(\.entry) { problems.append("the feed differs from the source's") }
            if try await PostgresRevocationRows.lastSequence(session) != dump.revocationsLast {
                problems.append("the feed's last number differs from the source's")
            }
            let last = try await PostgresAuditRows.list(session, after: (dump.audit.last?.sequence ?? 1) - 1, limit: 1)
            if last.last != dump.audit.last {
                problems.append("the audit chain's last entry differs from the source's")
            }
            return problems
        }
        guard problems.isEmpty else {
            throw PostgresStoreError(
                code: nil,
                description: "the copy does not match its source: " + problems.joined(separator: "; ")
            )
        }
    }
}
