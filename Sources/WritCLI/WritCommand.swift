public import ArgumentParser

/// The `writ` command.
public struct WritCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "writ",
        abstract: "Just-in-time credentials for AI agents: verify tokens, manage keys, measure.",
        subcommands: [VerifyCommand.self, KeysCommand.self, PolicyCommand.self, BenchCommand.self]
    )

    public init() {}
}
