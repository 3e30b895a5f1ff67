/// Sliding-window counts of refusals, per rule and per subject (a task or a workload), by the second.
///
/// Each count fires once: after a rule fires for a subject, it is quiet for that subject for one window (a
/// flood of refusals raises one alert, not one per record), then counts afresh. Memory is bounded: past
/// `capacity` subjects, the ones idle longest are dropped.
public struct RefusalWindows: Sendable {
    /// A rule and the task or workload it counts for.
    public struct Key: Hashable, Sendable {
        public var rule: String
        public var subject: String

        /// A key.
        public init(rule: String, subject: String) {
            self.rule = rule
            self.subject = subject
        }
    }

    private struct Window: Sendable {
        var seconds: [(second: Int64, count: Int)] = []
        var total = 0
        var lastSeen: Int64 = 0
        /// After a firing, nothing is counted before this second.
        var quietUntil: Int64?
    }

    private var windows: [Key: Window] = [:]
    /// The most windows kept.
    public let capacity: Int

    /// Empty windows.
    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Adds `count` refusals at `second`; the total within the last `window` seconds when it exceeds
    /// `threshold` (the window then starts again), nil otherwise.
    public mutating func add(_ count: Int, to key: Key, at second: Int64, window: Int64, threshold: Int) -> Int? {
        if windows[key] == nil, windows.count >= capacity { evictIdlest(now: second) }
        var entry = windows.removeValue(forKey: key) ?? Window()
        if let quiet = entry.quietUntil {
            guard second >= quiet else {
                entry.lastSeen = max(entry.lastSeen, second)
                windows[key] = entry
                return nil
            }
            entry.quietUntil = nil
        }
        if let last = entry.seconds.last, last.second == second {
            entry.seconds[entry.seconds.count - 1].count += count
        } else {
            entry.seconds.append((second, count))
        }
        entry.total += count
        entry.lastSeen = max(entry.lastSeen, second)
        let oldest = second - window + 1
        while let first = entry.seconds.first, first.second < oldest {
            entry.total -= first.count
            entry.seconds.removeFirst()
        }
        guard entry.total > threshold else {
            windows[key] = entry
            return nil
        }
        let total = entry.total
        windows[key] = Window(lastSeen: second, quietUntil: second + window)
        return total
    }

    /// Drops one rule's window of one subject (its quiet period too).
    public mutating func forget(_ key: Key) { windows[key] = nil }

    /// Drops every window of a subject (a released workload starts again).
    public mutating func forget(subject: String) {
        windows = windows.filter { $0.key.subject != subject }
    }

    /// Drops windows idle for longer than `idle` seconds.
    public mutating func prune(now: Int64, idle: Int64) {
        windows = windows.filter { $0.value.lastSeen >= now - idle }
    }

    private mutating func evictIdlest(now: Int64) {
        // Drop the idlest tenth at once, so eviction is rare.
        let sorted = windows.sorted { $0.value.lastSeen < $1.value.lastSeen }
        for (key, _) in sorted.prefix(max(1, capacity / 10)) { windows[key] = nil }
    }
}
