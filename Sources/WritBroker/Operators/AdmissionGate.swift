import Synchronization

private enum GateEntry { case now, wait, refuse }

/// Lets at most `width` callers in at once and at most `queue` wait; the rest are turned away at once.
/// Argon2id costs 19 MiB and tens of milliseconds per check, so a flood of guesses must not run unbounded.
public final class AdmissionGate: Sendable {
    /// Callers admitted at once.
    public let width: Int
    /// Callers allowed to wait.
    public let queue: Int

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// A gate.
    public init(width: Int, queue: Int) {
        self.width = max(width, 1)
        self.queue = max(queue, 0)
    }

    /// Runs `body` when admitted; returns nil at once when the gate and its queue are full.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T? {
        let entry: GateEntry = state.withLock { state in
            if state.running < width {
                state.running += 1
                return .now
            }
            return state.waiting.count < queue ? .wait : .refuse
        }
        switch entry {
        case .refuse: return nil
        case .wait:
            await withCheckedContinuation { continuation in
                let admitted = state.withLock { state in
                    if state.running < width {
                        state.running += 1
                        return true
                    }
                    state.waiting.append(continuation)
                    return false
                }
                if admitted { continuation.resume() }
            }
        case .now: break
        }
        defer { leave() }
        return try await body()
    }

    private func leave() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            // The slot passes straight to the next waiter, so `running` is unchanged in that case.
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
