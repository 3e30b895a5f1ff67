import ArgumentParser

/// What a verb prints and how it exits, computed apart from the process so tests can check both.
public struct CommandOutcome: Error, Sendable, Equatable {
    /// Text for standard output.
    public var output: String
    /// The process exit code.
    public var exitCode: Int32
    /// The broker's stable error code, when the broker refused the request.
    public var code: String?

    /// An outcome.
    public init(output: String, exitCode: Int32, code: String? = nil) {
        self.output = output
        self.exitCode = exitCode
        self.code = code
    }
}

/// Exit codes shared by every verb.
public enum WritExitCode {
    /// Success.
    public static let success: Int32 = 0
    /// The input was checked and refused (a token rejected, a policy denied).
    public static let rejected: Int32 = 1
    /// The verb could not run: a missing file, bad configuration.
    public static let unusable: Int32 = 2
    /// The broker could not be reached, or failed (down, timed out, 5xx).
    public static let unreachable: Int32 = 3
    /// The broker refused the operator token (401) or its role (403).
    public static let unauthorized: Int32 = 4
    /// No such task, token, key or operator.
    public static let notFound: Int32 = 5
}

extension CommandOutcome {
    /// Prints the output and ends the command with the outcome's exit code.
    func finish() throws {
        print(output)
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}
