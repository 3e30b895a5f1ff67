import Foundation
import GRDB
import WritPolicy

/// ``MonitoringStore`` over the SQLite database.
struct SQLiteMonitoringStore: MonitoringStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func append(_ alert: MonitoringAlert, audit: AuditEvent) async throws -> MonitoringAlert {
        try await database.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO monitoring_alerts (at, rule, response, workload, task, task_type, window_seconds,
                        observed, threshold, codes, kind, baseline, revocation)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    StoredTime.milliseconds(alert.at), alert.rule, alert.response.rawValue, alert.workload, alert.task,
                    alert.taskType, alert.window, alert.observed, alert.threshold, alert.codes.joined(separator: " "),
                    alert.kind, alert.baseline, alert.revocation.map { Int64(clamping: $0) },
                ]
            )
            var stored = alert
            stored.id = db.lastInsertedRowID
            try AuditRows.append(db, audit, at: alert.at)
            return stored
        }
    }

    func alerts(limit: Int, workload: String?) async throws -> [MonitoringAlert] {
        try await database.read { db in
            if let workload {
                return try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT * FROM monitoring_alerts WHERE workload = ? ORDER BY id DESC LIMIT ?"
                    ),
                    arguments: [workload, limit]
                ).map(Self.alert)
            }
            return try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM monitoring_alerts ORDER BY id DESC LIMIT ?"),
                arguments: [limit]
            ).map(Self.alert)
        }
    }

    func alerts(after id: Int64, limit: Int) async throws -> [MonitoringAlert] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM monitoring_alerts WHERE id > ? ORDER BY id LIMIT ?"),
                arguments: [id, limit]
            ).map(Self.alert)
        }
    }

    func highestAlertNumber() async throws -> Int64 {
        try await database.read { db in
            // AUTOINCREMENT keeps the highest number given in sqlite_sequence, deleted rows or not.
            let row = try Row.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'monitoring_alerts'")
            let highest: Int64? = row?["seq"]
            return highest ?? 0
        }
    }

    func prune(before cutoff: Date) async throws -> Int {
        try await database.write { db in
            try db.cachedStatement(sql: "DELETE FROM monitoring_alerts WHERE at < ?")
                .execute(arguments: [StoredTime.milliseconds(cutoff)])
            return db.changesCount
        }
    }

    func baselines() async throws -> [UsageBaseline] {
        try await database.read { db in try Self.baselines(db) }
    }

    static func baselines(_ db: Database) throws -> [UsageBaseline] {
        try Row.fetchAll(db, sql: "SELECT workload, task_type, body FROM usage_baselines ORDER BY workload, task_type")
            .map { try UsageBaseline.stored(workload: $0["workload"], taskType: $0["task_type"], json: $0["body"]) }
    }

    func save(_ baselines: [UsageBaseline]) async throws {
        try await database.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO usage_baselines (workload, task_type, body, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (workload, task_type) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
                    """
            )
            for baseline in baselines {
                try statement.execute(
                    arguments: [
                        baseline.workload, baseline.taskType, baseline.storedJSON,
                        StoredTime.milliseconds(seconds: TimeInterval(baseline.updated)),
                    ]
                )
            }
        }
    }

    static func alert(_ row: Row) throws -> MonitoringAlert {
        let response: String = row["response"]
        guard let known = MonitoringRule.Response(rawValue: response) else {
            throw DatabaseError(message: "monitoring_alerts holds an unknown response '\(response)'")
        }
        let codes: String = row["codes"]
        let revocation: Int64? = row["revocation"]
        return MonitoringAlert(
            id: row["id"],
            at: StoredTime.date(row["at"]),
            rule: row["rule"],
            kind: row["kind"],
            response: known,
            workload: row["workload"],
            task: row["task"],
            taskType: row["task_type"],
            window: row["window_seconds"],
            observed: row["observed"],
            threshold: row["threshold"],
            codes: codes.split(separator: " ").map(String.init),
            baseline: row["baseline"],
            revocation: revocation.map { UInt64(max($0, 0)) }
        )
    }
}
