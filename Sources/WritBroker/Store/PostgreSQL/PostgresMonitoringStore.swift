import Foundation
import PostgresNIO
import WritPolicy
import WritToken

/// ``MonitoringStore`` on PostgreSQL: one list of alerts for every broker.
struct PostgresMonitoringStore: MonitoringStore {
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func append(_ alert: MonitoringAlert, audit: AuditEvent) async throws -> MonitoringAlert {
        try await database.write { session in
            var stored = alert
            stored.id = try await Self.insert(session, alert, keepingID: false)
            _ = try await PostgresAuditRows.append(session, audit, at: alert.at)
            return stored
        }
    }

    /// Writes an alert; with `keepingID` under its own number (what `writ store migrate` copies). Its number.
    @discardableResult
    static func insert(_ session: PostgresSession, _ alert: MonitoringAlert, keepingID: Bool) async throws -> Int64 {
        let codes = alert.codes.joined(separator: " ")
        let revocation = alert.revocation.map { Int64(clamping: $0) }
        let window = Int32(clamping: alert.window)
        let threshold = Int32(clamping: alert.threshold)
        let id: Int64? = keepingID ? alert.id : nil
        return try await session.integer(
            """
            INSERT INTO monitoring_alerts (id, at, rule, response, workload, task, task_type, window_seconds,
                observed, threshold, codes, kind, baseline, revocation)
            VALUES (COALESCE(\(id), nextval('monitoring_alerts_id_seq')), \(StoredTime.milliseconds(alert.at)),
                \(alert.rule), \(alert.response.rawValue), \(alert.workload), \(alert.task), \(alert.taskType),
                \(window), \(Int64(alert.observed)), \(threshold), \(codes), \(alert.kind), \(alert.baseline),
                \(revocation))
            RETURNING id
            """
        ) ?? 0
    }

    func alerts(limit: Int, workload: String?) async throws -> [MonitoringAlert] {
        try await database.read { session in
            let rows: [PostgresRandomAccessRow]
            if let workload {
                rows = try await session.rows(
                    "SELECT * FROM monitoring_alerts WHERE workload = \(workload) ORDER BY id DESC LIMIT \(limit)"
                )
            } else {
                rows = try await session.rows("SELECT * FROM monitoring_alerts ORDER BY id DESC LIMIT \(limit)")
            }
            return try rows.map(Self.alert)
        }
    }

    func alerts(after id: Int64, limit: Int) async throws -> [MonitoringAlert] {
        try await database.read { session in
            try await session.rows("SELECT * FROM monitoring_alerts WHERE id > \(id) ORDER BY id LIMIT \(limit)")
                .map(Self.alert)
        }
    }

    func highestAlertNumber() async throws -> Int64 {
        try await database.read { session in
            let row = try await session.row(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS highest FROM monitoring_alerts_id_seq"
            )
            return try row?.int64("highest") ?? 0
        }
    }

    func prune(before cutoff: Date) async throws -> Int {
        try await database.write { session in
            try await session.execute(
                "DELETE FROM monitoring_alerts WHERE at < \(StoredTime.milliseconds(cutoff)) RETURNING 1"
            )
        }
    }

    func baselines() async throws -> [UsageBaseline] {
        try await database.read { session in
            try await session.rows("SELECT workload, task_type, body FROM usage_baselines").map {
                try UsageBaseline.stored(
                    workload: try $0.string("workload"),
                    taskType: try $0.string("task_type"),
                    json: try $0.string("body")
                )
            }.sorted { ($0.workload, $0.taskType) < ($1.workload, $1.taskType) }
        }
    }

    func save(_ baselines: [UsageBaseline]) async throws {
        try await database.write { session in
            for baseline in baselines { try await Self.save(session, baseline) }
        }
    }

    /// Writes one baseline, replacing the one of its workload and task type.
    static func save(_ session: PostgresSession, _ baseline: UsageBaseline) async throws {
        let updated = StoredTime.milliseconds(seconds: TimeInterval(baseline.updated))
        try await session.execute(
            """
            INSERT INTO usage_baselines (workload, task_type, body, updated_at)
            VALUES (\(baseline.workload), \(baseline.taskType), \(baseline.storedJSON), \(updated))
            ON CONFLICT (workload, task_type) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
            """
        )
    }

    static func alert(_ row: PostgresRandomAccessRow) throws -> MonitoringAlert {
        let response = try row.string("response")
        guard let known = MonitoringRule.Response(rawValue: response) else {
            throw PostgresStoreError(
                code: nil,
                description: "monitoring_alerts holds an unknown response '\(response)'"
            )
        }
        return MonitoringAlert(
            id: try row.int64("id"),
            at: try row.date("at"),
            rule: try row.string("rule"),
            kind: try row.string("kind"),
            response: known,
            workload: try row.string("workload"),
            task: try row.optionalString("task"),
            taskType: try row.optionalString("task_type"),
            window: Int(try row["window_seconds"].decode(Int32.self)),
            observed: try row.int("observed"),
            threshold: Int(try row["threshold"].decode(Int32.self)),
            codes: try row.string("codes").split(separator: " ").map(String.init),
            baseline: try row.optionalString("baseline"),
            revocation: try row.optionalInt64("revocation").map { UInt64(max($0, 0)) }
        )
    }
}
