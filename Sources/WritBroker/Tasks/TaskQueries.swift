public import Foundation
import WritToken

/// Which tasks an operator asks for.
public struct TaskFilter: Sendable, Hashable {
    /// The acting workload.
    public var workload: String?
    /// The user the task is for.
    public var user: String?
    /// `open`, `completed`, `aborted` or `expired`.
    public var state: TaskState?
    /// A resource server the grant names.
    public var audience: String?
    /// At most this many, newest first.
    public var limit = 100

    /// No filter.
    public init() {}
}

/// A task as operators list it: the stored task and how many of its tokens are live.
public struct TaskSummary: Sendable, Hashable {
    /// The task.
    public let task: BrokerTask
    /// Tokens issued for it.
    public let tokens: Int
    /// Those still usable: unexpired, and the task open (a closed task's tokens are revoked).
    public let liveTokens: Int
}

/// A workload as operators see it.
public struct WorkloadActivity: Sendable, Hashable {
    /// Its SPIFFE ID.
    public let workload: String
    /// Its open tasks.
    public let openTasks: Int
    /// Its tasks still recorded, open or closed.
    public let tasks: Int
    /// Its usable tokens: unexpired, of open tasks.
    public let liveTokens: Int
    /// When it last began a task.
    public let lastTask: Date?
}

/// A task and its descendants, depth first, with their tokens.
public struct TaskTree: Sendable, Hashable {
    /// The task, then its descendants depth first.
    public let tasks: [BrokerTask]
    /// Every token of those tasks, with whether it is revoked (its task closed, or an entry covers it).
    public let tokens: [TokenState]

    /// A tree.
    public init(tasks: [BrokerTask], tokens: [TokenState]) {
        self.tasks = tasks
        self.tokens = tokens
    }

    /// A recorded token and whether it is revoked.
    public struct TokenState: Sendable, Hashable {
        /// The token's record.
        public let token: IssuedToken
        /// Whether it is revoked.
        public let revoked: Bool

        /// A token's state.
        public init(token: IssuedToken, revoked: Bool) {
            self.token = token
            self.revoked = revoked
        }
    }
}
