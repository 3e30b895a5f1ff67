import Foundation

/// Operations per second from one timed round.
public struct Round: Sendable {
    /// How many operations completed.
    public let operations: Int
    /// How long they took, in seconds.
    public let seconds: Double
    /// Operations per second.
    public var rate: Double { Double(operations) / seconds }

    /// A round of `operations` that took `elapsed`.
    init(operations: Int, elapsed: Duration) {
        self.operations = operations
        self.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// A round of `operations` that took `seconds`.
    init(operations: Int, seconds: Double) {
        self.operations = operations
        self.seconds = seconds
    }
}

/// The rounds of one measured operation, summarised by their median.
public struct Series: Sendable {
    /// The measurement's name.
    public let name: String
    /// Every round's rate, in the order measured.
    public var rates: [Double] = []

    /// An empty series.
    public init(name: String) { self.name = name }

    /// The median rate.
    public var median: Double {
        guard !rates.isEmpty else { return 0 }
        let sorted = rates.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Runs `body` repeatedly for about `seconds`, in batches so the clock is read rarely.
package func timedLoop(seconds: Double, batch: Int = 64, _ body: () -> Bool) -> Round {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
    var operations = 0
    var failures = 0
    while clock.now < deadline {
        for _ in 0..<batch where !body() { failures += 1 }
        operations += batch
    }
    precondition(failures == 0, "a benchmarked operation failed \(failures) times")
    return Round(operations: operations, elapsed: start.duration(to: clock.now))
}

/// Async variant of ``timedLoop(seconds:batch:_:)``.
package func timedLoop(seconds: Double, batch: Int = 64, _ body: () async -> Bool) async -> Round {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
    var operations = 0
    var failures = 0
    while clock.now < deadline {
        for _ in 0..<batch where !(await body()) { failures += 1 }
        operations += batch
    }
    precondition(failures == 0, "a benchmarked operation failed \(failures) times")
    return Round(operations: operations, elapsed: start.duration(to: clock.now))
}

/// Runs `body` on `threads` OS threads at once for about `seconds`; returns the combined rate.
package func parallelLoop(threads: Int, seconds: Double, _ body: @escaping @Sendable () -> Bool) -> Round {
    let results = ResultBox(count: threads)
    let group = DispatchGroup()
    for index in 0..<threads {
        group.enter()
        let thread = Thread {
            results.set(index, timedLoop(seconds: seconds, body))
            group.leave()
        }
        thread.start()
    }
    group.wait()
    let rounds = results.all
    let operations = rounds.reduce(0) { $0 + $1.operations }
    let seconds = rounds.map(\.seconds).max() ?? seconds
    return Round(operations: operations, seconds: seconds)
}

/// Collects per-thread results.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var rounds: [Round?]

    init(count: Int) { rounds = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ round: Round) {
        lock.lock()
        rounds[index] = round
        lock.unlock()
    }

    var all: [Round] {
        lock.lock()
        defer { lock.unlock() }
        return rounds.compactMap { $0 }
    }
}
