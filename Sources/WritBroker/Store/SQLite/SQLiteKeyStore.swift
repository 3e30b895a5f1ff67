import Foundation
import GRDB
import WritToken

/// ``KeyStore`` over the SQLite database.
struct SQLiteKeyStore: KeyStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func listUnretired() async throws -> [SigningKeyRecord] {
        try await database.read { db in try Self.unretired(db) }
    }

    func list() async throws -> [SigningKeyRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, rowid").map(Self.record)
        }
    }

    func insert(_ record: SigningKeyRecord, actor: String, at date: Date) async throws {
        try await database.write { db in try Self.insert(db, record, actor: actor, at: date) }
    }

    func rotate(
        to record: SigningKeyRecord,
        immediately: Bool,
        retiresAt: Date,
        keyEntryRetention: TimeInterval,
        actor: String,
        at now: Date
    ) async throws -> KeyRotationWrite {
        try await database.write { db in
            let records = try Self.unretired(db)
            if !immediately, let pending = records.first(where: { !$0.signs(at: now) }) { return .pending(pending) }
            guard let signing = records.last(where: { $0.signs(at: now) }) else { return .noSigningKey }
            try Self.insert(db, record, actor: actor, at: now)
            // Normally only the key signing now is replaced. A compromise retires every other key now: older
            // ones still published for their tokens, and one waiting to sign.
            try db.execute(
                sql: "UPDATE signing_keys SET retires_at = ? WHERE retired_at IS NULL AND "
                    + (immediately ? "kid <> ?" : "kid = ?"),
                arguments: [StoredTime.milliseconds(retiresAt), immediately ? record.id : signing.id]
            )
            var entries: [Revocation] = []
            if immediately {
                // A compromised key travels like a revocation: verifiers following the feed drop it at once
                // instead of at their next key refresh.
                for retired in records {
                    try StatusRows.markRevoked(db, signedBy: retired.id)
                    entries.append(
                        try RevocationRows.insert(
                            db,
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
            try AuditRows.append(db, event, at: now)
            return .rotated(previous: signing.id, keyEntries: entries)
        }
    }

    func retire(_ ids: [String], at date: Date) async throws -> [SigningKeyRecord] {
        try await database.write { db in
            for id in ids {
                try db.execute(
                    sql: "UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL",
                    arguments: [StoredTime.milliseconds(date), id]
                )
                if db.changesCount == 1 {
                    try AuditRows.append(db, AuditEvent("key.retired", actor: "broker", subject: id), at: date)
                }
            }
            return try Self.unretired(db)
        }
    }

    private static func unretired(_ db: Database) throws -> [SigningKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, rowid")
            .map(record)
    }

    private static func insert(_ db: Database, _ record: SigningKeyRecord, actor: String, at date: Date) throws {
        try db.execute(
            sql: "INSERT INTO signing_keys (kid, algorithm, file, created_at, activates_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                record.id, record.algorithm, record.file, StoredTime.milliseconds(record.createdAt),
                record.activatesAt.map(StoredTime.milliseconds),
            ]
        )
        var detail: [String: JSONValue] = ["alg": .string(record.algorithm)]
        if let activatesAt = record.activatesAt { detail["activates_at"] = .integer(activatesAt.numericDate) }
        try AuditRows.append(
            db,
            AuditEvent("key.created", actor: actor, subject: record.id, detail: .object(detail)),
            at: date
        )
    }

    static func record(_ row: Row) -> SigningKeyRecord {
        func date(_ column: String) -> Date? { (row[column] as Int64?).map(StoredTime.date) }
        return SigningKeyRecord(
            id: row["kid"],
            algorithm: row["algorithm"],
            file: row["file"],
            createdAt: StoredTime.date(row["created_at"]),
            activatesAt: date("activates_at"),
            retiresAt: date("retires_at"),
            retiredAt: date("retired_at")
        )
    }
}
