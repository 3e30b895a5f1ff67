public import Foundation
public import WritAPI
public import WritPolicy
public import WritToken

/// What a detection rule saw and what the broker did: the rule, the window, the counts, the threshold they
/// crossed, and the revocation the response made (a task's, or a workload's quarantine).
public struct MonitoringAlert: Sendable, Hashable {
    /// The store's number; 0 before it is stored.
    public var id: Int64
    /// When it fired.
    public var at: Date
    /// The rule.
    public var rule: String
    /// What the rule detects: `refusals`, `new_resource`, `rate`, `fan_out` or `two_bindings`.
    public var kind: String
    /// What the broker did.
    public var response: MonitoringRule.Response
    /// The workload.
    public var workload: String
    /// The task, for a rule counted per task.
    public var task: String?
    /// The task's type, when known.
    public var taskType: String?
    /// The window counted over, in seconds.
    public var window: Int
    /// What was counted in it.
    public var observed: Int
    /// The count that had to be exceeded.
    public var threshold: Int
    /// The refusal codes counted.
    public var codes: [String]
    /// The baseline compared with, in words (baseline rules).
    public var baseline: String?
    /// The feed entry the response made, when it revoked something.
    public var revocation: UInt64?

    /// An alert.
    public init(
        id: Int64,
        at: Date,
        rule: String,
        kind: String = "refusals",
        response: MonitoringRule.Response,
        workload: String,
        task: String?,
        taskType: String?,
        window: Int,
        observed: Int,
        threshold: Int,
        codes: [String],
        baseline: String? = nil,
        revocation: UInt64?
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
    }

    /// A sentence an operator reads.
    public var explanation: String {
        let subject = task.map { "task \($0) of \(workload)" } ?? workload
        switch kind {
        case "new_resource":
            return "rule \(rule): \(subject): \(baseline ?? "a use never seen before"); \(responseText)"
        case "rate":
            return "rule \(rule): \(subject) made \(observed) requests, more than the \(threshold) allowed by the "
                + "baseline (\(baseline ?? "-")); \(responseText)"
        case "fan_out":
            return "rule \(rule): \(subject) started \(observed) sub-tasks, more than the \(threshold) allowed by the "
                + "baseline (\(baseline ?? "-")); \(responseText)"
        case "two_bindings":
            return "rule \(rule): a token of \(subject) was presented with a proof from a key or certificate other "
                + "than the one it is bound to (\(observed) times); \(responseText)"
        default:
            return "rule \(rule): \(observed) refusals (\(codes.joined(separator: ", "))) for \(subject) within "
                + "\(window) s, more than the \(threshold) allowed; \(responseText)"
        }
    }

    private var responseText: String {
        switch response {
        case .alert: return "alert only"
        case .revokeTask:
            return revocation.map { "task revoked (feed entry \($0))" } ?? "the task was already closed"
        case .quarantineWorkload:
            return revocation.map { "workload quarantined (feed entry \($0))" }
                ?? "the quarantine did not take (the broker's log says why)"
        }
    }

    /// The alert on the wire.
    public var wire: MonitoringAlertBody {
        MonitoringAlertBody(
            id: id,
            at: at.numericDate,
            rule: rule,
            kind: kind,
            response: response.rawValue,
            workload: workload,
            task: task,
            taskType: taskType,
            window: window,
            observed: observed,
            threshold: threshold,
            codes: codes,
            baseline: baseline,
            revocation: revocation.map { Int64(clamping: $0) },
            explanation: explanation
        )
    }

    /// The facts of its audit entry.
    var auditDetail: JSONValue {
        var members: [String: JSONValue] = [
            "rule": .string(rule),
            "kind": .string(kind),
            "response": .string(response.rawValue),
            "workload": .string(workload),
            "window": .integer(Int64(window)),
            "observed": .integer(Int64(observed)),
            "threshold": .integer(Int64(threshold)),
            "codes": .array(codes.map(JSONValue.string)),
            "explanation": .string(explanation),
        ]
        if let task { members["task"] = .string(task) }
        if let taskType { members["task_type"] = .string(taskType) }
        if let revocation { members["revocation"] = .integer(Int64(clamping: revocation)) }
        if let baseline { members["baseline"] = .string(baseline) }
        return .object(members)
    }
}
