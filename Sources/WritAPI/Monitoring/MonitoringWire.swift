public import WritToken

/// An alert: what a detection rule saw, the threshold it crossed, and what the broker did.
public struct MonitoringAlertBody: WireMessage {
    public var id: Int64
    /// When it fired, in seconds since the epoch.
    public var at: Int64
    public var rule: String
    /// What the rule detects: `refusals`, `new_resource`, `rate`, `fan_out` or `two_bindings`.
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

/// One use in a baseline: where, what, which identifier prefix, how often allowed and refused.
public struct BaselineUseBody: WireMessage {
    public var audience: String
    public var resourceType: String
    public var action: String
    /// The identifier without its last segment; empty for uses without an identifier.
    public var prefix: String
    public var allowed: Int
    public var refused: Int
    /// When last seen, in seconds since the epoch.
    public var lastSeen: Int64

    /// A use.
    public init(
        audience: String,
        resourceType: String,
        action: String,
        prefix: String,
        allowed: Int,
        refused: Int,
        lastSeen: Int64
    ) {
        self.audience = audience
        self.resourceType = resourceType
        self.action = action
        self.prefix = prefix
        self.allowed = allowed
        self.refused = refused
        self.lastSeen = lastSeen
    }

    /// Reads a use.
    public init(from object: WireObject) throws(WireError) {
        audience = try object.string("audience")
        resourceType = try object.string("resource_type")
        action = try object.string("action")
        prefix = try object.string("prefix")
        allowed = Int(try object.integer("allowed"))
        refused = Int(try object.integer("refused"))
        lastSeen = try object.integer("last_seen")
    }

    /// The use as JSON.
    public var json: JSONValue {
        .object([
            "audience": .string(audience), "resource_type": .string(resourceType), "action": .string(action),
            "prefix": .string(prefix), "allowed": .integer(Int64(allowed)), "refused": .integer(Int64(refused)),
            "last_seen": .integer(lastSeen),
        ])
    }
}

/// A workload's baseline for one task type, and its tasks reporting now.
public struct UsageBaselineBody: WireMessage {
    public var workload: String
    public var taskType: String
    /// Tasks the baseline has seen.
    public var tasks: Int
    /// Finished tasks the per-task figures come from.
    public var finishedTasks: Int
    /// The 99th percentile of requests per finished task.
    public var requestsP99: Int?
    /// The 99th percentile of sub-tasks per finished task (the fan-out).
    public var subtasksP99: Int?
    /// Refusals per thousand uses.
    public var refusalsPerThousand: Int
    /// Tasks reporting now, and their requests and refusals so far.
    public var liveTasks: Int
    public var liveRequests: Int
    public var liveRefusals: Int
    /// The uses, most used first.
    public var uses: [BaselineUseBody]

    /// A baseline.
    public init(
        workload: String,
        taskType: String,
        tasks: Int,
        finishedTasks: Int,
        requestsP99: Int?,
        subtasksP99: Int? = nil,
        refusalsPerThousand: Int,
        liveTasks: Int,
        liveRequests: Int,
        liveRefusals: Int,
        uses: [BaselineUseBody]
    ) {
        self.workload = workload
        self.taskType = taskType
        self.tasks = tasks
        self.finishedTasks = finishedTasks
        self.requestsP99 = requestsP99
        self.subtasksP99 = subtasksP99
        self.refusalsPerThousand = refusalsPerThousand
        self.liveTasks = liveTasks
        self.liveRequests = liveRequests
        self.liveRefusals = liveRefusals
        self.uses = uses
    }

    /// Reads a baseline.
    public init(from object: WireObject) throws(WireError) {
        workload = try object.string("workload")
        taskType = try object.string("task_type")
        tasks = Int(try object.integer("tasks"))
        finishedTasks = Int(try object.integer("finished_tasks"))
        requestsP99 = try object.optionalInteger("requests_p99").map { Int($0) }
        subtasksP99 = try object.optionalInteger("subtasks_p99").map { Int($0) }
        refusalsPerThousand = Int(try object.integer("refusals_per_thousand"))
        liveTasks = Int(try object.integer("live_tasks"))
        liveRequests = Int(try object.integer("live_requests"))
        liveRefusals = Int(try object.integer("live_refusals"))
        uses = try object.array("uses")
    }

    /// The baseline as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "workload": .string(workload), "task_type": .string(taskType), "tasks": .integer(Int64(tasks)),
            "finished_tasks": .integer(Int64(finishedTasks)),
            "refusals_per_thousand": .integer(Int64(refusalsPerThousand)),
            "live_tasks": .integer(Int64(liveTasks)), "live_requests": .integer(Int64(liveRequests)),
            "live_refusals": .integer(Int64(liveRefusals)), "uses": .array(uses.map(\.json)),
        ]
        if let requestsP99 { members["requests_p99"] = .integer(Int64(requestsP99)) }
        if let subtasksP99 { members["subtasks_p99"] = .integer(Int64(subtasksP99)) }
        return .object(members)
    }
}

/// `GET /v1/admin/usage`: the baselines, what `writ monitor`, `writ policy graph --observed` and
/// `writ policy suggest` read.
public struct UsageResponse: WireMessage {
    public var baselines: [UsageBaselineBody]
    /// The broker's time, in seconds since the epoch.
    public var time: Int64

    /// A response.
    public init(baselines: [UsageBaselineBody], time: Int64) {
        self.baselines = baselines
        self.time = time
    }

    /// Reads a response.
    public init(from object: WireObject) throws(WireError) {
        baselines = try object.array("baselines")
        time = try object.integer("time")
    }

    /// The response as JSON.
    public var json: JSONValue { .object(["baselines": .array(baselines.map(\.json)), "time": .integer(time)]) }
}

/// The query of `GET /v1/admin/usage`.
public struct UsageQuery: WireParameters {
    /// Only this workload's baselines.
    public var workload: String?

    /// A query.
    public init(workload: String? = nil) { self.workload = workload }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) { workload = parameters["workload"] }

    /// The query's parameters.
    public var parameters: [(String, String)] { workload.map { [("workload", $0)] } ?? [] }
}
