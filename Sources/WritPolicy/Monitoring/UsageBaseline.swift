public import WritToken

/// What tasks of one type, run by one workload, normally use: the resources (by audience, type, action and
/// identifier prefix) with how often each was allowed and refused, and the requests and tokens of recent
/// tasks. Kept by the broker from usage reports; bounded and rolling.
public struct UsageBaseline: Sendable, Hashable {
    /// The most resource entries kept; past it the one seen longest ago goes.
    public static let maximumEntries = 256
    /// How many recent tasks the per-task figures come from.
    public static let recentTasks = 200

    /// A kind of use: where, what, and which part of the identifier space.
    public struct Use: Sendable, Hashable, Comparable {
        public var audience: String
        public var resourceType: String
        public var action: String
        /// The identifier without its last segment (`departments/hr/handbook` for
        /// `departments/hr/handbook/leave`), at most four segments; empty for no identifier.
        public var prefix: String

        /// A use.
        public init(audience: String, resourceType: String, action: String, prefix: String) {
            self.audience = audience
            self.resourceType = resourceType
            self.action = action
            self.prefix = prefix
        }

        /// The prefix of an identifier.
        public static func prefix(of identifier: String?) -> String {
            guard let identifier else { return "" }
            let segments = identifier.split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count > 1 else { return identifier.count > 64 ? String(identifier.prefix(64)) : identifier }
            return segments.dropLast().prefix(4).joined(separator: "/")
        }

        public static func < (lhs: Use, rhs: Use) -> Bool {
            (lhs.audience, lhs.resourceType, lhs.action, lhs.prefix)
                < (rhs.audience, rhs.resourceType, rhs.action, rhs.prefix)
        }

        /// A short text: `read document departments/hr/handbook/* at https://docs.example.org`.
        public var text: String {
            "\(action) \(resourceType) \(prefix.isEmpty ? "(no identifier)" : prefix + "/*") at \(audience)"
        }
    }

    /// How often one use was seen, and when last (seconds since the epoch).
    public struct Seen: Sendable, Hashable {
        public var allowed: Int
        public var refused: Int
        public var lastSeen: Int64

        /// Counts.
        public init(allowed: Int = 0, refused: Int = 0, lastSeen: Int64) {
            self.allowed = allowed
            self.refused = refused
            self.lastSeen = lastSeen
        }

        mutating func add(_ count: Int, allowed isAllowed: Bool, at second: Int64) {
            if isAllowed { allowed += count } else { refused += count }
            lastSeen = max(lastSeen, second)
        }
    }

    /// The workload.
    public var workload: String
    /// The task type.
    public var taskType: String
    /// Tasks seen in reports since the baseline began.
    public var tasks: Int
    /// The uses, by kind.
    public var uses: [Use: Seen]
    /// Requests (allowed and refused) of the most recent finished tasks, oldest first.
    public var requestsPerTask: [Int]
    /// Refusals of the same tasks.
    public var refusalsPerTask: [Int]
    /// Tokens of the same tasks.
    public var tokensPerTask: [Int]
    /// Sub-tasks of the same tasks (their fan-out).
    public var subtasksPerTask: [Int]
    /// When it last changed (seconds since the epoch).
    public var updated: Int64

    /// An empty baseline.
    public init(workload: String, taskType: String, now: Int64) {
        self.workload = workload
        self.taskType = taskType
        self.tasks = 0
        self.uses = [:]
        self.requestsPerTask = []
        self.refusalsPerTask = []
        self.tokensPerTask = []
        self.subtasksPerTask = []
        self.updated = now
    }

    /// Whether a use was ever allowed here.
    public func knows(_ use: Use) -> Bool { (uses[use]?.allowed ?? 0) > 0 }

    /// Counts a use.
    public mutating func record(_ use: Use, allowed: Bool, count: Int, at second: Int64) {
        if uses.count >= Self.maximumEntries, uses[use] == nil,
            let oldest = uses.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key
        {
            uses[oldest] = nil
        }
        // Changed in place: one lookup.
        uses[use, default: Seen(lastSeen: second)].add(count, allowed: allowed, at: second)
        updated = max(updated, second)
    }

    /// Adds a finished task's figures.
    public mutating func finish(requests: Int, refusals: Int, tokens: Int, subtasks: Int = 0, at second: Int64) {
        Self.push(requests, onto: &requestsPerTask)
        Self.push(refusals, onto: &refusalsPerTask)
        Self.push(tokens, onto: &tokensPerTask)
        Self.push(subtasks, onto: &subtasksPerTask)
        updated = max(updated, second)
    }

    /// Adds what another baseline of the same workload and task type learned (tasks, uses, recent tasks).
    public mutating func merge(_ other: UsageBaseline) {
        tasks += other.tasks
        for (use, seen) in other.uses {
            var known = uses[use] ?? Seen(lastSeen: seen.lastSeen)
            known.allowed += seen.allowed
            known.refused += seen.refused
            known.lastSeen = max(known.lastSeen, seen.lastSeen)
            uses[use] = known
        }
        while uses.count > Self.maximumEntries, let oldest = uses.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
            uses[oldest.key] = nil
        }
        for value in other.requestsPerTask { Self.push(value, onto: &requestsPerTask) }
        for value in other.refusalsPerTask { Self.push(value, onto: &refusalsPerTask) }
        for value in other.tokensPerTask { Self.push(value, onto: &tokensPerTask) }
        for value in other.subtasksPerTask { Self.push(value, onto: &subtasksPerTask) }
        updated = max(updated, other.updated)
    }

    /// Drops uses not seen since `cutoff`.
    public mutating func forget(before cutoff: Int64) {
        uses = uses.filter { $0.value.lastSeen >= cutoff }
    }

    /// The 99th percentile of requests per task (nearest rank), nil before any task finished.
    public var requestsP99: Int? { Self.percentile(99, of: requestsPerTask) }
    /// The 99th percentile of sub-tasks per task: the fan-out.
    public var subtasksP99: Int? { Self.percentile(99, of: subtasksPerTask) }

    /// The refusal rate over every use counted.
    public var refusalRate: Double {
        let (allowed, refused) = uses.values.reduce((0, 0)) { ($0.0 + $1.allowed, $0.1 + $1.refused) }
        return allowed + refused == 0 ? 0 : Double(refused) / Double(allowed + refused)
    }

    /// The nearest-rank percentile of values.
    public static func percentile(_ percent: Int, of values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = max(1, Int((Double(percent) / 100 * Double(sorted.count)).rounded(.up)))
        return sorted[min(rank, sorted.count) - 1]
    }

    private static func push(_ value: Int, onto ring: inout [Int]) {
        ring.append(value)
        if ring.count > recentTasks { ring.removeFirst(ring.count - recentTasks) }
    }
}
