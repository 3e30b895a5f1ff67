import Foundation
import WritBroker

#if canImport(Glibc)
import Glibc
#endif

/// Runs the `writ` executable as an operator would, capturing what it prints and how it exits. Output goes
/// to files (a pipe could fill and stall the child) and the wait polls, never blocking a thread.
struct WritRunner: Sendable {
    /// The broker it talks to, through the environment, and the operator token file.
    var environment: [String: String]

    struct Result: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The environment for a broker process: its URL and its first operator's token.
    init(broker: BrokerProcess) {
        environment = [
            "WRIT_BROKER": broker.baseURL,
            "WRIT_OPERATOR_TOKEN_FILE": broker.state.operatorToken.path,
            "WRIT_STATE_DIR": broker.state.url.path,
        ]
    }

    init(environment: [String: String]) { self.environment = environment }

    /// Runs `writ ARGUMENTS` to completion.
    func run(_ arguments: [String], extra: [String: String] = [:]) async throws -> Result {
        let running = try start(arguments, extra: extra)
        let deadline = ContinuousClock.now + .seconds(60)
        while running.process.isRunning {
            guard ContinuousClock.now < deadline else {
                running.process.terminate()
                throw RunnerError(message: "writ \(arguments.joined(separator: " ")) did not finish")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return running.result()
    }

    /// Starts `writ ARGUMENTS` and returns it running (for `--follow`).
    func start(_ arguments: [String], extra: [String: String] = [:]) throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = BrokerProcess.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for name in ["WRIT_BROKER", "WRIT_OPERATOR_TOKEN", "WRIT_OPERATOR_TOKEN_FILE", "WRIT_CLI_CONFIG"] {
            environment[name] = nil
        }
        environment["HOME"] = directory.path
        for (name, value) in self.environment { environment[name] = value }
        for (name, value) in extra { environment[name] = value }
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return Running(process: process, directory: directory, out: out, err: err)
    }

    /// A started `writ`.
    struct Running: @unchecked Sendable {
        let process: Process
        let directory: URL
        let out: URL
        let err: URL

        /// What it has printed so far.
        var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }

        /// Stops it (SIGTERM) and waits until it is gone.
        func stop() async throws {
            if process.isRunning { process.terminate() }
            while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        }

        func result() -> Result {
            defer { try? FileManager.default.removeItem(at: directory) }
            return Result(
                status: process.terminationStatus,
                stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            )
        }
    }

    struct RunnerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
