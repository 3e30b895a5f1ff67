import Foundation
import PostgresNIO
import WritToken

/// Signing-key records on PostgreSQL. A rotation holds the write lock, so brokers rotate one at a time.
struct PostgresKeyStore: KeyStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func listUnretired() async throws -> [SigningKeyRecord] {
        try await database.read { session in try await Self.unretired(session) }
    }

    func list() async throws -> [SigningKeyRecord] {
        try await database.read { session in
            try await session.rows("SELECT * FROM signing_keys ORDER BY created_at, position").map(Self.record)
        }
    }

    func insert(_ record: SigningKeyRecord, actor: String, at date: Date) async throws {
        try await database.write { session in try await Self.insert(session, record, actor: actor, at: date) }
    }

    func rotate(
        to record: SigningKeyRecord,
        immediately: Bool,
        retiresAt: Date,
        keyEntryRetention: TimeInterval,
        actor: String,
        at now: Date
    ) async throws -> KeyRotationWrite {
        try await database.write { session in
            let records = try await Self.unretired(session)
            if !immediately, let pending = records.first(where: { !$0.signs(at: now) }) { return .pending(pending) }
            guard let signing = records.last(where: { $0.signs(at: now) }) else { return .noSigningKey }
            try await Self.insert(session, record, actor: actor, at: now)
            // Normally only the key signing now is replaced. A compromise retires every other key now.
            let retires = StoredTime.milliseconds(retiresAt)
            if immediately {
                try await session.execute(
                    "UPDATE signing_keys SET retires_at = \(retires) WHERE retired_at IS NULL AND kid <> \(record.id)"
                )
            } else {
                try await session.execute(
                    "UPDATE signing_keys SET retires_at = \(retires) WHERE retired_at IS NULL AND kid = \(signing.id)"
                )
            }
            var entries: [Revocation] = []
            if immediately {
                // A compromised key travels like a revocation: verifiers following the feed drop it at once.
                for retired in records {
                    try await PostgresStatusRows.markRevoked(session, signedBy: retired.id)
                    entries.append(
                        try await PostgresRevocationRows.insert(
                            session,
                            .key(retired.id),
                            revokedAt: now,
                            retainUntil: now.addingTimeInterval(keyEntryRetention),
                            actor: actor
                        )
                    )
                }
            }
            let event = KeyRotation.auditEvent(
                newKey: record,
                previous: signing.id,
                retiresAt: retiresAt,
                keyEntries: immediately ? entries : nil,
                actor: actor
            )
            try await PostgresAuditRows.append(session, event, at: now)
            return .rotated(previous: signing.id, keyEntries: entries)
        }
    }

    func retire(_ ids: [String], at date: Date) async throws -> [SigningKeyRecord] {
        try await database.write { session in
            for id in ids {
                let changed = try await session.execute(
                    """
                    UPDATE signing_keys SET retired_at = \(StoredTime.milliseconds(date))
                    WHERE kid = \(id) AND retired_at IS NULL RETURNING 1
                    """
                )
                if changed == 1 {
                    try await PostgresAuditRows.append(
                        session,
                        AuditEvent("key.retired", actor: "broker", subject: id),
                        at: date
                    )
                }
            }
            return try await Self.unretired(session)
        }
    }

    private static func unretired(_ session: PostgresSession) async throws -> [SigningKeyRecord] {
        try await session.rows("SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, position")
            .map(record)
    }

    private static func insert(
        _ session: PostgresSession,
        _ record: SigningKeyRecord,
        actor: String,
        at date: Date
    )
        async throws
    {
        try await session.execute(
            """
            INSERT INTO signing_keys (kid, algorithm, file, created_at, activates_at)
            VALUES (\(record.id), \(record.algorithm), \(record.file), \(StoredTime.milliseconds(record.createdAt)),
                \(record.activatesAt.map(StoredTime.milliseconds)))
            """
        )
        var detail: [String: JSONValue] = ["alg": .string(record.algorithm)]
        if let activatesAt = record.activatesAt { detail["activates_at"] = .integer(activatesAt.numericDate) }
        try await PostgresAuditRows.append(
            session,
            AuditEvent("key.created", actor: actor, subject: record.id, detail: .object(detail)),
            at: date
        )
    }

    private static func record(_ row: PostgresRandomAccessRow) throws -> SigningKeyRecord {
        SigningKeyRecord(
            id: try row.string("kid"),
            algorithm: try row.string("algorithm"),
            file: try row.string("file"),
            createdAt: try row.date("created_at"),
            activatesAt: try row.optionalDate("activates_at"),
            retiresAt: try row.optionalDate("retires_at"),
            retiredAt: try row.optionalDate("retired_at")
        )
    }
}
