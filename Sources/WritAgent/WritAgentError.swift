/// Why the broker refused, as a value an agent can act on: a policy denial lists what was not allowed, so
/// the agent can ask again more narrowly.
public enum WritAgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One reason of a policy denial.
    public struct Denial: Sendable, Hashable {
        /// A stable code (`not_covered`, `forbidden`, `too_many_resources`, …).
        public let code: String
        /// The authorization detail at fault, by index.
        public let entry: Int?
        /// The action at fault.
        public let action: String?
        /// What was wrong.
        public let message: String
        /// The policy rules involved.
        public let rules: [String]
    }

    /// The policy denied the task.
    case denied([Denial])
    /// The broker refused the request with a stable code (`invalid_grant`, `revoked`, `rate_limited`, …).
    case refused(code: String, message: String, status: Int)
    /// The broker could not be reached or answered something unreadable.
    case unavailable(String)

    public var description: String {
        switch self {
        case .denied(let reasons):
            return "denied: " + reasons.map { "\($0.code): \($0.message)" }.joined(separator: "; ")
        case .refused(let code, let message, _): return "\(code): \(message)"
        case .unavailable(let reason): return "unavailable: \(reason)"
        }
    }
}
