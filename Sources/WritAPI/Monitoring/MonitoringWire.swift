public import WritToken

/// An alert: what a detection rule saw, the threshold it crossed, and what the broker did.
public struct MonitoringAlertBody: WireMessage {
    public var id: Int64
    /// When it fired, in seconds since the epoch.
    public var at: Int64
    public var rule: String
    /// What the rule detects: `refusals`, `new_resource` or `rate`.
    public var kind: String
    /// `alert`, `revoke_task` or `quarantine_workload`.
    public var response: String
    public var workload: String
    public var task: String?
    public var taskType: String?
    /// The window counted over, in seconds.
    public var window: Int
    /// What was counted in the window.
    public var observed: Int
    /// The count that had to be exceeded.
    public var threshold: Int
    /// The refusal codes counted.
    public var codes: [String]
    /// The baseline compared with, in words (baseline rules).
    public var baseline: String?
    /// The feed entry the response made.
    public var revocation: Int64?
    /// The same, as a sentence.
    public var explanation: String

    /// An alert.
    public init(
        id: Int64,
        at: Int64,
        rule: String,
        kind: String,
        response: String,
        workload: String,
        task: String?,
        taskType: String?,
        window: Int,
        observed: Int,
        threshold: Int,
        codes: [String],
        baseline: String?,
        revocation: Int64?,
        explanation: String
    ) {
        self.id = id
        self.at = at
        self.rule = rule
        self.kind = kind
        self.response = response
        self.workload = workload
        self.task = task
        self.taskType = taskType
        self.window = window
        self.observed = observed
        self.threshold = threshold
        self.codes = codes
        self.baseline = baseline
        self.revocation = revocation
        self.explanation = explanation
    }

    /// Reads an alert.
    public init(from object: WireObject) throws(WireError) {
        id = try object.integer("id")
        at = try object.integer("at")
        rule = try object.string("rule")
        kind = try object.string("kind")
        response = try object.string("response")
        workload = try object.string("workload")
        task = try object.optionalString("task")
        taskType = try object.optionalString("task_type")
        window = Int(try object.integer("window"))
        observed = Int(try object.integer("observed"))
        threshold = Int(try object.integer("threshold"))
        codes = try object.strings("codes")
        baseline = try object.optionalString("baseline")
        revocation = try object.optionalInteger("revocation")
        explanation = try object.string("explanation")
    }

    /// The alert as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .integer(id),
            "at": .integer(at),
            "rule": .string(rule),
            "kind": .string(kind),
            "response": .string(response),
            "workload": .string(workload),
            "window": .integer(Int64(window)),
            "observed": .integer(Int64(observed)),
            "threshold": .integer(Int64(threshold)),
            "codes": .array(codes.map(JSONValue.string)),
            "explanation": .string(explanation),
        ]
        if let task { members["task"] = .string(task) }
        if let taskType { members["task_type"] = .string(taskType) }
        if let revocation { members["revocation"] = .integer(revocation) }
        if let baseline { members["baseline"] = .string(baseline) }
        return .object(members)
    }
}

/// A workload in quarantine.
public struct QuarantineBody: WireMessage {
    public var workload: String
    /// Since when, in seconds since the epoch.
    public var since: Int64
    /// The feed entry that holds it (a workload revocation that stands until lifted).
    public var revocation: Int64
    /// The alert that put it there, when still kept.
    public var alert: MonitoringAlertBody?

    /// A quarantine.
    public init(workload: String, since: Int64, revocation: Int64, alert: MonitoringAlertBody?) {
        self.workload = workload
        self.since = since
        self.revocation = revocation
        self.alert = alert
    }

    /// Reads a quarantine.
    public init(from object: WireObject) throws(WireError) {
        workload = try object.string("workload")
        since = try object.integer("since")
        revocation = try object.integer("revocation")
        alert = try object.optionalValue("alert")
    }

    /// The quarantine as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "workload": .string(workload),
            "since": .integer(since),
            "revocation": .integer(revocation),
        ]
        if let alert { members["alert"] = alert.json }
        return .object(members)
    }
}

/// `GET /v1/admin/quarantines`.
public struct QuarantineListResponse: WireMessage {
    public var quarantines: [QuarantineBody]

    /// A list.
    public init(quarantines: [QuarantineBody]) { self.quarantines = quarantines }

    /// Reads a list.
    public init(from object: WireObject) throws(WireError) { quarantines = try object.array("quarantines") }

    /// The list as JSON.
    public var json: JSONValue { .object(["quarantines": .array(quarantines.map(\.json))]) }
}

/// `POST /v1/admin/quarantines/release`: the workload to release and why (audited).
public struct QuarantineReleaseRequest: WireMessage {
    public var workload: String
    public var reason: String

    /// A release.
    public init(workload: String, reason: String) {
        self.workload = workload
        self.reason = reason
    }

    /// Reads a release.
    public init(from object: WireObject) throws(WireError) {
        workload = try object.string("workload")
        reason = try object.string("reason")
    }

    /// The release as JSON.
    public var json: JSONValue { .object(["workload": .string(workload), "reason": .string(reason)]) }
}

/// What a release answers: the lifts made, one per quarantine entry.
public struct QuarantineReleaseResponse: WireMessage {
    public var workload: String
    public var lifts: [RevocationLiftResponse]

    /// A release's answer.
    public init(workload: String, lifts: [RevocationLiftResponse]) {
        self.workload = workload
        self.lifts = lifts
    }

    /// Reads a release's answer.
    public init(from object: WireObject) throws(WireError) {
        workload = try object.string("workload")
        lifts = try object.array("lifts")
    }

    /// The answer as JSON.
    public var json: JSONValue { .object(["workload": .string(workload), "lifts": .array(lifts.map(\.json))]) }
}

/// `GET /v1/admin/monitor`: current alerts and quarantines.
public struct MonitorResponse: WireMessage {
    /// The latest alerts, newest first.
    public var alerts: [MonitoringAlertBody]
    /// The workloads in quarantine.
    public var quarantines: [QuarantineBody]

    /// A view.
    public init(alerts: [MonitoringAlertBody], quarantines: [QuarantineBody]) {
        self.alerts = alerts
        self.quarantines = quarantines
    }

    /// Reads a view.
    public init(from object: WireObject) throws(WireError) {
        alerts = try object.array("alerts")
        quarantines = try object.array("quarantines")
    }

    /// The view as JSON.
    public var json: JSONValue {
        .object(["alerts": .array(alerts.map(\.json)), "quarantines": .array(quarantines.map(\.json))])
    }
}

/// The query of `GET /v1/admin/monitor`.
public struct MonitorQuery: WireParameters {
    /// Only this workload's alerts.
    public var workload: String?
    /// At most this many alerts (1 to 1000; 50 when absent).
    public var limit: UInt64?

    /// A query.
    public init(workload: String? = nil, limit: UInt64? = nil) {
        self.workload = workload
        self.limit = limit
    }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        workload = parameters["workload"]
        limit = try WireParameter.number(parameters, "limit")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] {
        var list: [(String, String)] = []
        if let workload { list.append(("workload", workload)) }
        if let limit { list.append(("limit", String(limit))) }
        return list
    }
}
