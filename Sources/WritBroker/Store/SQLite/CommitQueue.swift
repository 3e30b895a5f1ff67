import GRDB
import Synchronization

/// Groups concurrent writes into shared durable commits.
///
/// A write joins the pending batch. If no commit is running, its caller becomes the leader: it takes every
/// pending write, runs each in its own savepoint inside one transaction, commits once (one fsync for the whole
/// batch), wakes the writers of that batch, and hands leadership to the oldest writer still waiting. So there
/// is no background task, a failed write rolls back only itself, and no caller returns before its commit is
/// on disk.
final class CommitQueue: Sendable {
    /// The most writes one commit takes, to bound the latency of the first in a long queue.
    static let maximumBatch = 512

    private enum Signal { case done, lead }

    private final class Entry: @unchecked Sendable {
        // `work` runs on the writer; the other fields change only under the queue's lock, and the write's
        // outcome is published to the caller by resuming its continuation after the commit.
        let work: @Sendable (Database) throws -> Void
        var failure: (any Error)?
        var finished = false
        var leads = false
        var continuation: CheckedContinuation<Signal, Never>?

        init(work: @escaping @Sendable (Database) throws -> Void) { self.work = work }
    }

    private struct State {
        var pending: [Entry] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let pool: DatabasePool

    init(pool: DatabasePool) { self.pool = pool }

    /// Runs `body` in the next shared commit and returns its result once the commit is durable. If `body`
    /// throws, only its own changes are rolled back.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = Mutex<T?>(nil)
        let entry = Entry { db in
            let value = try body(db)
            result.withLock { $0 = value }
        }
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
        let failure = state.withLock { _ in entry.failure }
        if let failure { throw failure }
        guard let value = result.withLock({ $0 }) else { throw DatabaseError(message: "the write produced no result") }
        return value
    }

    /// Commits one batch as the leader, then wakes its writers and passes leadership on.
    private func commitNextBatch() async {
        let batch = state.withLock { state in
            let count = min(state.pending.count, Self.maximumBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
        var failures = [(any Error)?](repeating: nil, count: batch.count)
        do {
            // The batch holds other callers' writes: it must not fail because this caller's task is cancelled
            // (GRDB interrupts a cancelled write), so it runs in a task of its own, awaited here.
            let pool = self.pool
            failures = try await Task { try await Self.commit(batch, in: pool) }.value
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

    /// Runs a batch in one transaction, each write in its own savepoint; returns each write's failure.
    private static func commit(_ batch: [Entry], in pool: DatabasePool) async throws -> [(any Error)?] {
        try await pool.writeWithoutTransaction { db in
            var failures = [(any Error)?](repeating: nil, count: batch.count)
            // Prepared once per connection: a batch runs three statements per write around its work.
            let savepoint = try db.cachedStatement(sql: "SAVEPOINT write")
            let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT write")
            let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT write")
            try db.inTransaction(.immediate) {
                for (index, entry) in batch.enumerated() {
                    try savepoint.execute()
                    do {
                        try entry.work(db)
                        try release.execute()
                    } catch {
                        failures[index] = error
                        try rollback.execute()
                        try release.execute()
                    }
                }
                return .commit
            }
            return failures
        }
    }
}
