public import ArgumentParser

/// The `writ` command.
public struct WritCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "writ",
        abstract: "Just-in-time credentials for AI agents: run the broker, see and revoke what agents hold, audit, "
            + "manage keys and policies.",
        discussion: """
            Verbs that talk to a running broker (tasks, workloads, revoke, keys list|rotate, audit, monitor, quarantine) find it with \
            --broker or WRIT_BROKER (default http://127.0.0.1:8080) and authenticate with an operator token from \
            --token-file, WRIT_OPERATOR_TOKEN(_FILE), ~/.config/writ/cli.yaml (broker:, token_file:), or \
            ./.writ/operator-token. Exit codes: 0 done, 1 refused or check failed, 2 unusable input or \
            configuration, 3 broker unreachable or failing, 4 credentials refused, 5 not found, 64 the command \
            line itself is wrong (unknown option, missing argument).
            """,
        subcommands: [
            ServeCommand.self, TasksCommand.self, WorkloadsCommand.self, RevokeCommand.self, AuditCommand.self,
            KeysCommand.self, OperatorCommand.self, PolicyCommand.self, VerifyCommand.self, DevCommand.self,
            StoreCommand.self, MonitorCommand.self, QuarantineCommand.self, BenchCommand.self, CompletionCommand.self,
        ]
    )

    public init() {}
}
