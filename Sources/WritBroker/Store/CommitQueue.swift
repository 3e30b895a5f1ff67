import Synchronization

/// Groups concurrent writes into shared durable commits, whatever the database.
///
/// A write joins the pending batch. If no commit is running, its caller becomes the leader: it takes every
/// pending write, has `commit` run each in its own savepoint inside one transaction and commit once (one flush
/// for the whole batch), wakes the writers of that batch, and hands leadership to the oldest writer still
/// waiting. So there is no background task, a failed write rolls back only itself, and no caller returns before
/// its commit is durable.
final class CommitQueue<Work: Sendable>: Sendable {
    /// Runs a batch in one transaction and returns each write's failure (nil for success), or throws when the
    /// transaction as a whole failed (then every write of the batch failed).
    typealias Commit = @Sendable ([Work]) async throws -> [(any Error)?]

    /// The most writes one commit takes, to bound the latency of the first in a long queue.
    let maximumBatch: Int

    private enum Signal { case done, lead }

    private final class Entry: @unchecked Sendable {
        // `work` runs in the leader's transaction; the other fields change only under the queue's lock, and the
        // write's outcome is published to the caller by resuming its continuation after the commit.
        let work: Work
        var failure: (any Error)?
        var finished = false
        var leads = false
        var continuation: CheckedContinuation<Signal, Never>?

        init(work: Work) { self.work = work }
    }

    private struct State {
        var pending: [Entry] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let commit: Commit

    init(maximumBatch: Int = 512, commit: @escaping Commit) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    /// Returns once `work` has committed, or throws what made it (or its whole batch) fail.
    func perform(_ work: Work) async throws {
        let entry = Entry(work: work)
        let leads = state.withLock { state in
            state.pending.append(entry)
            guard !state.committing else { return false }
            state.committing = true
            return true
        }
        if leads {
            await commitNextBatch()
        } else {
            let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
                let now: Signal? = state.withLock { _ in
                    if entry.finished { return .done }
                    if entry.leads { return .lead }
                    entry.continuation = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
            if signal == .lead { await commitNextBatch() }
        }
        if let failure = state.withLock({ _ in entry.failure }) { throw failure }
    }

    private func commitNextBatch() async {
        let batch = state.withLock { state in
            let count = min(state.pending.count, maximumBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
        var failures = [(any Error)?](repeating: nil, count: batch.count)
        do {
            // The batch holds other callers' writes: it must not fail because this caller's task is cancelled,
            // so it runs in a task of its own, awaited here.
            let commit = self.commit
            let works = batch.map(\.work)
            failures = try await Task { try await commit(works) }.value
        } catch {
            failures = failures.map { $0 ?? error }
        }
        let wake: [CheckedContinuation<Signal, Never>] = state.withLock { state in
            var wake: [CheckedContinuation<Signal, Never>] = []
            for (index, entry) in batch.enumerated() {
                entry.failure = failures[index]
                entry.finished = true
                if let continuation = entry.continuation {
                    wake.append(continuation)
                    entry.continuation = nil
                }
            }
            if let next = state.pending.first {
                next.leads = true
                if let continuation = next.continuation {
                    next.continuation = nil
                    continuation.resume(returning: .lead)
                }
            } else {
                state.committing = false
            }
            return wake
        }
        for continuation in wake { continuation.resume(returning: .done) }
    }
}
