public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a child process and waits for its end without holding a thread: the tests run on Swift's cooperative
/// pool, which has one thread per core, and a test that blocked one in `waitUntilExit` would stall every other
/// test (and the timers that bound them) while its child ran.
public enum ChildProcess {
    /// How a child ended.
    public struct Exit: Sendable {
        /// Its exit status (or the signal that ended it).
        public let status: Int32
        /// Whether it was still running at the deadline and was terminated.
        public let timedOut: Bool
    }

    /// Starts `process` and returns once it has ended. With a `deadline`, a child still running then is sent
    /// SIGTERM (and SIGKILL a second later) and the exit says it timed out. A cancelled caller has the child
    /// terminated the same way, and gets `CancellationError`.
    public static func run(_ process: Process, deadline: Duration? = nil) async throws -> Exit {
        let (ended, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        let running = Running()
        process.terminationHandler = { finished in
            running.end()
            continuation.yield(finished.terminationStatus)
            continuation.finish()
        }
        try process.run()
        running.start(process.processIdentifier)
        let watchdog = deadline.map { deadline in
            Task { () -> Bool in
                do { try await Task.sleep(for: deadline) } catch { return false }
                await running.stop()
                return true
            }
        }
        var status: Int32?
        for await value in ended { status = value }
        watchdog?.cancel()
        let timedOut = await watchdog?.value ?? false
        guard let status else {
            // Cancelled before the child ended.
            await running.stop()
            throw CancellationError()
        }
        return Exit(status: status, timedOut: timedOut)
    }

    /// A child's pid while it runs: once it has ended (and its pid may belong to another process) nothing is
    /// sent to it.
    private final class Running: Sendable {
        private let pid = Mutex<pid_t?>(nil)

        func start(_ identifier: pid_t) { pid.withLock { $0 = identifier } }
        func end() { pid.withLock { $0 = nil } }

        /// SIGTERM, and SIGKILL a second later if it still runs.
        func stop() async {
            signal(SIGTERM)
            try? await Task.sleep(for: .seconds(1))
            signal(SIGKILL)
        }

        private func signal(_ number: Int32) {
            pid.withLock { pid in
                if let pid { kill(pid, number) }
            }
        }
    }
}
