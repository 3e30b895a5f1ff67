public import Foundation

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
    /// SIGTERM (and SIGKILL a second later) and the exit says it timed out.
    public static func run(_ process: Process, deadline: Duration? = nil) async throws -> Exit {
        let (ended, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { finished in
            continuation.yield(finished.terminationStatus)
            continuation.finish()
        }
        try process.run()
        let identifier = process.processIdentifier
        let watchdog = deadline.map { deadline in
            Task { () -> Bool in
                do { try await Task.sleep(for: deadline) } catch { return false }
                kill(identifier, SIGTERM)
                try? await Task.sleep(for: .seconds(1))
                if !Task.isCancelled { kill(identifier, SIGKILL) }
                return true
            }
        }
        var status: Int32 = -1
        for await value in ended { status = value }
        watchdog?.cancel()
        let timedOut = await watchdog?.value ?? false
        return Exit(status: status, timedOut: timedOut)
    }
}
