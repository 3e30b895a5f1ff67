public import Foundation
public import WritToken

/// A detection rule from the `monitoring` section of a policy file: which tasks it watches, what usage it looks
/// for, and what the broker does when it sees it. See docs/monitoring.md.
public struct MonitoringRule: Sendable, Hashable {
    /// What the broker does when the rule fires.
    public enum Response: String, Sendable, Hashable, CaseIterable {
        /// Log, metric, audit entry and an alert in `writ monitor`.
        case alert
        /// The alert, and the task (with its sub-tasks) is revoked.
        case revokeTask = "revoke_task"
        /// The alert, and the workload is quarantined: no new tasks or tokens, every live token revoked, until
        /// an operator releases it.
        case quarantineWorkload = "quarantine_workload"
    }

    /// What a count is kept for.
    public enum Scope: String, Sendable, Hashable, CaseIterable {
        /// Each task (`txn`) on its own.
        case task
        /// All of a workload's tasks together; also counts refusals that name no task.
        case workload
    }

    /// "More than `moreThan` refusals with one of `codes` within `within` seconds, per task or per workload."
    public struct Refusals: Sendable, Hashable {
        /// The refusal codes counted.
        public var codes: Set<String>
        /// The count that must be exceeded.
        public var moreThan: Int
        /// The sliding window, in seconds.
        public var within: TimeInterval
        /// What the count is kept for.
        public var per: Scope

        /// A refusal-count detection.
        public init(codes: Set<String>, moreThan: Int, within: TimeInterval, per: Scope) {
            self.codes = codes
            self.moreThan = moreThan
            self.within = within
            self.per = per
        }
    }

    /// "A resource never used by tasks of this type": a use (audience, resource type, action, identifier
    /// prefix) the baseline of the workload and task type has never seen allowed, once it holds `afterTasks`.
    public struct NewResource: Sendable, Hashable {
        /// Tasks the baseline must hold before it judges (what it learns from first).
        public var afterTasks: Int

        /// A novelty detection.
        public init(afterTasks: Int) { self.afterTasks = afterTasks }
    }

    /// "A task's requests above `above` × the baseline's p99 of requests per task", once the baseline holds
    /// `afterTasks` finished tasks.
    public struct Rate: Sendable, Hashable {
        /// The multiple of the baseline's p99.
        public var above: Double
        /// Finished tasks the baseline must hold before it judges.
        public var afterTasks: Int

        /// A rate detection.
        public init(above: Double, afterTasks: Int) {
            self.above = above
            self.afterTasks = afterTasks
        }
    }

    /// What the rule looks for.
    public enum Detection: Sendable, Hashable {
        /// Too many refusals of some kinds in a window.
        case refusals(Refusals)
        /// A use the baseline has never seen.
        case newResource(NewResource)
        /// A task far busier than the baseline's tasks.
        case rate(Rate)
        /// A task starting far more sub-tasks than the baseline's tasks (`above` × the p99 of sub-tasks per
        /// task).
        case fanOut(Rate)
        /// A task's token presented with a proof made with another key, or over another certificate, than the one
        /// it is bound to (`binding_mismatch` at a verifier): the token is in two places.
        case twoBindings

        /// The detection's name in policy files and alerts.
        public var kind: String {
            switch self {
            case .refusals: return "refusals"
            case .newResource: return "new_resource"
            case .rate: return "rate"
            case .fanOut: return "fan_out"
            case .twoBindings: return "two_bindings"
            }
        }
    }

    /// The codes a `refusals` detection may count: every verifier refusal, and the broker's own signals.
    public static let refusalCodes: [String] =
        VerificationError.Code.all.map(\.rawValue).filter { $0 != "revocation_view_stale" } + brokerSignals
    /// The broker's own signals: a task, or a token for an open task, refused by policy (`task_denied`); a DPoP
    /// proof replayed at the token endpoint (`broker_proof_replayed`); and a workload assertion its issuer
    /// signed, refused for its times, issuer or audience (`broker_assertion_refused`). An assertion whose
    /// signature does not verify is not counted: nothing unauthenticated names a workload.
    public static let brokerSignals = ["task_denied", "broker_proof_replayed", "broker_assertion_refused"]
    /// The codes counted when a rule names none: a token used outside its grant.
    public static let defaultCodes: Set<String> = ["insufficient_authorization"]

    /// The rule's id, unique across every policy file's rules and monitoring rules.
    public let id: String
    /// What it is for.
    public let description: String?
    /// The workloads it watches; nil for every workload.
    public let workloads: [SPIFFEPattern]?
    /// The task types it watches; nil for every type.
    public let taskTypes: [String]?
    /// What it looks for.
    public let detection: Detection
    /// What the broker does.
    public let response: Response
    /// Where it is written.
    public let location: SourceLocation

    /// A rule.
    public init(
        id: String,
        description: String? = nil,
        workloads: [SPIFFEPattern]? = nil,
        taskTypes: [String]? = nil,
        detection: Detection,
        response: Response,
        location: SourceLocation
    ) {
        self.id = id
        self.description = description
        self.workloads = workloads
        self.taskTypes = taskTypes
        self.detection = detection
        self.response = response
        self.location = location
    }

    /// Whether the rule watches this workload and task type (nil when the usage names no task).
    public func watches(_ workload: SPIFFEID, taskType: String?) -> Bool {
        if let workloads, !workloads.contains(where: { $0.matches(workload) }) { return false }
        if let taskTypes {
            guard let taskType, taskTypes.contains(taskType) else { return false }
        }
        return true
    }

    /// The refusal detection, when that is what the rule looks for.
    public var refusals: Refusals? {
        if case .refusals(let refusals) = detection { return refusals }
        return nil
    }
}
