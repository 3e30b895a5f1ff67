import Foundation
import GRDB
import WritToken

extension StoreDump {
    /// Reads a broker's SQLite database whole, read-only, in one snapshot. The database must be at this
    /// writ's schema (start `writ serve` of this version on it once otherwise).
    public static func sqlite(readingOnly path: String) throws -> StoreDump {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BrokerDatabase.SchemaMismatch(path: path, missing: true)
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            guard try BrokerDatabase.migrator.hasCompletedMigrations(db) else {
                throw BrokerDatabase.SchemaMismatch(path: path, missing: false)
            }
            var dump = StoreDump()
            dump.tasks = try Row.fetchAll(db, sql: "SELECT * FROM tasks ORDER BY depth, created_at, id").map(
                TaskRows.task
            )
            dump.tokens = try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY issued_at, jti").map(
                TokenRows.record
            )
            dump.revocations = try Row.fetchAll(db, sql: "SELECT * FROM revocations ORDER BY seq").map { row in
                (try RevocationRows.revocation(row), row["actor"])
            }
            dump.revocationsLast = try RevocationRows.lastSequence(db)
            dump.audit = try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq").map(AuditRows.entry)
            dump.auditAnchor = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1").map {
                AuditLog.Anchor(sequence: $0["seq"], hash: $0["hash"])
            }
            dump.auditLast = max(
                try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'") ?? 0,
                dump.audit.last?.sequence ?? 0,
                dump.auditAnchor?.sequence ?? 0
            )
            dump.keys = try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, rowid").map(
                SQLiteKeyStore.record
            )
            dump.operators = try Row.fetchAll(db, sql: "SELECT * FROM operators ORDER BY created_at, name").compactMap(
                SQLiteOperatorStore.record
            )
            dump.proofs = try Row.fetchAll(db, sql: "SELECT expires_at, proof FROM dpop_proofs").map {
                ($0["expires_at"], $0["proof"])
            }
            dump.statusLists = try StatusRows.all(db)
            dump.revokedTokens = try String.fetchAll(db, sql: "SELECT jti FROM tokens WHERE status = 1 ORDER BY jti")
            dump.signalStreams = try Row.fetchAll(db, sql: "SELECT * FROM ssf_streams ORDER BY created_at, id").map(
                SQLiteSignalStreamStore.stream
            )
            dump.alerts = try Row.fetchAll(db, sql: "SELECT * FROM monitoring_alerts ORDER BY id").map(
                SQLiteMonitoringStore.alert
            )
            dump.baselines = try SQLiteMonitoringStore.baselines(db)
            return dump
        }
    }
}
