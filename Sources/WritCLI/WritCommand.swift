public import ArgumentParser

/// The `writ` command.
public struct WritCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "writ",
        abstract: "Just-in-time credentials for AI agents: run the broker, verify tokens, manage keys and policies.",
        subcommands: [
            ServeCommand.self, DevCommand.self, VerifyCommand.self, KeysCommand.self, PolicyCommand.self,
            BenchCommand.self,
        ]
    )

    public init() {}
}
