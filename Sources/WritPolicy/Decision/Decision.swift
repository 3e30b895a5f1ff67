public import Foundation
public import WritToken

/// What a task may get: exactly what it asked for, with ceilings.
public struct Grant: Sendable, Hashable {
    /// The authorization details granted: the request's, never more.
    public var authorizationDetails: [AuthorizationDetail]
    /// How long the task may run.
    public var taskDuration: TimeInterval
    /// How long each token may live.
    public var tokenLifetime: TimeInterval
    /// How many further levels of sub-tasks may be delegated below this task.
    public var delegationDepth: Int
    /// Whether tokens without a sender constraint may be issued.
    public var bearerTokensAllowed: Bool

    /// A grant.
    public init(
        authorizationDetails: [AuthorizationDetail],
        taskDuration: TimeInterval,
        tokenLifetime: TimeInterval,
        delegationDepth: Int,
        bearerTokensAllowed: Bool
    ) {
        self.authorizationDetails = authorizationDetails
        self.taskDuration = taskDuration
        self.tokenLifetime = tokenLifetime
        self.delegationDepth = delegationDepth
        self.bearerTokensAllowed = bearerTokensAllowed
    }
}

/// Why part of a request is denied. The code is stable; agents act on it.
public struct DenialReason: Sendable, Hashable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The wire form.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No permit rule matches this workload, user and task at all.
        public static let noMatchingPermit = Code("no_matching_permit")
        /// Some permits match, but none covers this entry (or this action of it).
        public static let notCovered = Code("not_covered")
        /// A forbid rule matches this entry.
        public static let forbidden = Code("forbidden")
        /// The task asks for more entries than a ceiling allows.
        public static let tooManyResources = Code("too_many_resources")
        /// The task is delegated deeper than allowed.
        public static let delegationTooDeep = Code("delegation_too_deep")
        /// A sub-task asks for something its parent was not granted.
        public static let exceedsParent = Code("exceeds_parent_grant")
        /// The task asks for bearer tokens and no covering permit allows them.
        public static let bearerNotAllowed = Code("bearer_not_allowed")
        /// The request itself is unusable (no entries, an empty type or action).
        public static let invalidRequest = Code("invalid_request")

        /// Every code.
        public static let all: [Code] = [
            .noMatchingPermit, .notCovered, .forbidden, .tooManyResources, .delegationTooDeep, .exceedsParent,
            .bearerNotAllowed, .invalidRequest,
        ]
    }

    /// The code.
    public let code: Code
    /// The index of the requested entry this concerns, when it concerns one.
    public let entry: Int?
    /// The action this concerns, when it concerns one.
    public let action: String?
    /// A sentence for people.
    public let message: String
    /// The ids of the rules involved, sorted.
    public let rules: [String]

    /// A reason.
    public init(code: Code, entry: Int? = nil, action: String? = nil, message: String, rules: [String] = []) {
        self.code = code
        self.entry = entry
        self.action = action
        self.message = message
        self.rules = rules.sorted()
    }

    public var description: String {
        var text = code.rawValue
        if let entry { text += " [entry \(entry)" + (action.map { " action \($0)" } ?? "") + "]" }
        text += ": \(message)"
        if !rules.isEmpty { text += " (rules: \(rules.joined(separator: ", ")))" }
        return text
    }

    /// The reason as JSON, the machine-readable form agents receive.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "code": .string(code.rawValue), "message": .string(message), "rules": .array(rules.map(JSONValue.string)),
        ]
        if let entry { members["entry"] = .integer(Int64(entry)) }
        if let action { members["action"] = .string(action) }
        return .object(members)
    }
}

/// The outcome of evaluating a request.
public enum Decision: Sendable, Hashable {
    /// Permitted: the grant, and the permit rules it rests on (sorted).
    case permit(Grant, rules: [String])
    /// Denied: every reason, in entry order.
    case deny([DenialReason])

    /// Whether this is a permit.
    public var isPermit: Bool {
        if case .permit = self { return true }
        return false
    }

    /// The grant, when permitted.
    public var grant: Grant? {
        if case .permit(let grant, _) = self { return grant }
        return nil
    }

    /// The reasons, when denied.
    public var reasons: [DenialReason] {
        if case .deny(let reasons) = self { return reasons }
        return []
    }
}
