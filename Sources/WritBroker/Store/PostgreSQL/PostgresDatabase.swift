import Foundation
public import Logging
import NIOSSL
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// A PostgreSQL database the broker's stores share, over a bounded pool of connections.
///
/// Every write runs in one transaction that first takes one cluster-wide advisory lock: writers follow one
/// another, whichever broker they run in, as they do on SQLite. That is what keeps the revocation feed and the
/// audit chain gapless and in commit order, and lets each store method check and write in the same commit
/// (docs/scaling.md). Reads take no lock and see one consistent snapshot.
public final class PostgresDatabase: Sendable {
    /// The advisory lock every write transaction holds until it commits ("writ" in ASCII).
    static let writeLock: Int64 = 0x7772_6974
    /// The advisory lock a broker holds while it migrates the schema.
    static let migrationLock: Int64 = 0x7772_6974_6d69

    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Concurrent writes of this broker, grouped into shared commits (one flush per batch).
    private let commits: CommitQueue<@Sendable (PostgresSession) async throws -> Void>

    /// Connects (the pool opens connections as they are needed) and brings the schema up to date, within
    /// `timeout`: a database that cannot be reached fails the start instead of holding it.
    public init(
        _ location: PostgresLocation,
        logger: Logger = Logger(label: "writ.store"),
        timeout: Duration = .seconds(30),
        migrating: Bool = true
    ) async throws {
        let client = PostgresClient(configuration: try location.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.commits = CommitQueue(maximumBatch: 256) { [client, logger] batch in
            try await Self.commit(batch, client: client, logger: logger)
        }
        // Started at once, so the pool runs before the migration below asks it for a connection.
        self.runner = Task.immediate { await client.run() }
        do {
            try await Self.within(timeout) { [self] in
                if migrating { try await PostgresSchema.migrate(self) } else { try await PostgresSchema.check(self) }
            }
        } catch {
            runner.cancel()
            throw PostgresStoreError(error, doing: "bring the schema up to date")
        }
    }

    deinit { runner.cancel() }

    /// Runs `work` (the start: connecting, migrating), or throws once `timeout` has passed without waiting for `work` to notice (a connection
    /// attempt may take longer to give up); the caller then closes the pool, which ends it.
    static func within(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> Void) async throws {
        try await firstOf(work) { once in
            try? await Task.sleep(for: timeout)
            once.resume(
                with: .failure(
                    PostgresStoreError(
                        code: nil,
                        description: "PostgreSQL did not answer within \(timeout)",
                        unavailable: true
                    )
                )
            )
        }
    }

    /// Runs `work` on `connection`, or fails as unavailable once the connection has closed. A query in flight
    /// when the server went away (an immediate shutdown) was seen never to return, though its connection had
    /// closed; a write that never returns would hold every later write of this broker behind it. The connection
    /// is checked every 100 ms (a callback on its close would stay registered for as long as it lives). Whether a
    /// write cut off in its `COMMIT` committed cannot be known; the error says so. A connection that stays open
    /// to a peer that no longer answers is not caught here: TCP keepalives and the server's own timeouts end it.
    static func whileOpen<T: Sendable>(
        _ connection: PostgresConnection,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await firstOf(work) { once in
            while !once.isDone {
                if connection.isClosed {
                    once.resume(
                        with: .failure(
                            PostgresStoreError(
                                code: nil,
                                description: "PostgreSQL closed the connection before the transaction ended; a "
                                    + "change asked for may or may not have been made",
                                unavailable: true
                            )
                        )
                    )
                    once.cancelWork()
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The outcome of `work`, or what `watch` decides first; `watch` stops once `work` is done. Cancelling the
    /// caller cancels `work` (and `watch` goes on until `work` ends or decides). Neither waits for the other: a
    /// `work` that never returns is left behind.
    private static func firstOf<T: Sendable>(
        _ work: @escaping @Sendable () async throws -> T,
        watch: @escaping @Sendable (ResumeOnce<T>) async -> Void
    ) async throws -> T {
        let once = ResumeOnce<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                once.hold(continuation)
                let watcher = Task { await watch(once) }
                let attempt = Task {
                    defer { watcher.cancel() }
                    do {
                        once.resume(with: .success(try await work()))
                    } catch {
                        once.resume(with: .failure(error))
                    }
                }
                once.attach(attempt)
            }
        } onCancel: {
            once.cancelWork()
        }
    }

    /// A continuation resumed by whichever of two tasks finishes first, and the task doing the work, cancelled
    /// with the caller.
    private final class ResumeOnce<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var done = false
            var work: Task<Void, Never>?
            var cancelled = false
        }

        private let state = Mutex(State())

        func hold(_ continuation: CheckedContinuation<T, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        /// The task to cancel with the caller (at once, if it is already cancelled).
        func attach(_ work: Task<Void, Never>) {
            let cancelled = state.withLock { state in
                state.work = work
                return state.cancelled
            }
            if cancelled { work.cancel() }
        }

        func cancelWork() {
            let work = state.withLock { state in
                state.cancelled = true
                return state.work
            }
            work?.cancel()
        }

        /// Whether it has been resumed.
        var isDone: Bool { state.withLock { $0.done } }

        func resume(with result: Result<T, any Error>) {
            let continuation = state.withLock { state in
                defer {
                    state.continuation = nil
                    state.done = true
                }
                return state.continuation
            }
            continuation?.resume(with: result)
        }
    }

    /// Closes the pool's connections.
    public func close() { runner.cancel() }

    /// Runs `body` as one write: in a transaction holding the write lock (one writer at a time across every
    /// broker on this database), in a savepoint of its own among the concurrent writes of this broker that
    /// share the commit. Every connection starts with `synchronous_commit` on, so nothing is acknowledged
    /// before its commit is durable. A failed write rolls back only itself.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        let result = Mutex<T?>(nil)
        do {
            try await commits.perform { session in
                let value = try await body(session)
                result.withLock { $0 = value }
            }
        } catch let error as PSQLError {
            throw PostgresStoreError(error, doing: "write")
        } catch let error as ConnectionPoolError {
            throw PostgresStoreError(error, doing: "write")
        }
        guard let value = result.withLock({ $0 }) else {
            throw PostgresStoreError(code: nil, description: "the write produced no result")
        }
        return value
    }

    /// One transaction for a batch of writes, each in its own savepoint; one commit for all.
    private static func commit(
        _ batch: [@Sendable (PostgresSession) async throws -> Void],
        client: PostgresClient,
        logger: Logger
    ) async throws -> [(any Error)?] {
        try await client.withConnection { connection in
            try await whileOpen(connection) {
                try await commit(batch, on: PostgresSession(connection: connection, logger: logger))
            }
        }
    }

    /// The batch's transaction on one connection.
    private static func commit(
        _ batch: [@Sendable (PostgresSession) async throws -> Void],
        on session: PostgresSession
    ) async throws -> [(any Error)?] {
        try await session.run("BEGIN ISOLATION LEVEL READ COMMITTED")
        do {
            try await session.execute("SELECT pg_advisory_xact_lock(\(writeLock))")
            var failures = [(any Error)?](repeating: nil, count: batch.count)
            for (index, work) in batch.enumerated() {
                try await session.run("SAVEPOINT write")
                do {
                    try await work(session)
                    try await session.run("RELEASE SAVEPOINT write")
                } catch {
                    failures[index] = error
                    try await session.run("ROLLBACK TO SAVEPOINT write")
                    try await session.run("RELEASE SAVEPOINT write")
                }
            }
            try await session.run("COMMIT")
            return failures
        } catch {
            try? await session.run("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: nil, body)
    }

    /// Runs `body` in a transaction holding the advisory lock `lock` (released at commit or rollback).
    func transaction<T: Sendable>(
        begin: String,
        lock: Int64?,
        _ body: @escaping @Sendable (PostgresSession) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                try await Self.whileOpen(connection) {
                    let session = PostgresSession(connection: connection, logger: logger)
                    try await session.run(begin)
                    do {
                        if let lock { try await session.execute("SELECT pg_advisory_xact_lock(\(lock))") }
                        let value = try await body(session)
                        try await session.run("COMMIT")
                        return value
                    } catch {
                        try? await session.run("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            throw PostgresStoreError(error, doing: "run a transaction")
        } catch let error as ConnectionPoolError {
            throw PostgresStoreError(error, doing: "run a transaction")
        }
    }
}
