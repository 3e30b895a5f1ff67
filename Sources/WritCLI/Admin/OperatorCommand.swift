public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ operator`: operator tokens, managed on the broker host against its database.
public struct OperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Create, list and revoke operator tokens (on the broker host).",
        discussion: """
            These verbs open the broker's database in its state directory (--state, WRIT_STATE_DIR, or the \
            state_directory of --config; ./.writ by default), so they work with the broker running or stopped. \
            A revoked token is refused from the broker's next request on.
            """,
        subcommands: [CreateOperatorCommand.self, ListOperatorsCommand.self, RevokeOperatorCommand.self]
    )

    public init() {}
}

/// Where the broker's state is, for verbs that run on the broker host.
public struct StateOptions: ParsableArguments {
    @Option(help: "The broker's state directory (or WRIT_STATE_DIR).")
    var state: String?

    @Option(help: "The broker's configuration file, to find its state directory.")
    var config: String?

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false

    public init() {}

    /// The broker's state directory, from --state, else the configuration.
    func stateDirectory() throws(CommandOutcome) -> StateDirectory {
        if let state { return StateDirectory(path: state) }
        do {
            return StateDirectory(
                path: try BrokerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
                    .stateDirectory
            )
        } catch {
            throw CommandOutcome.unusable("configuration: \(error)")
        }
    }

    /// The broker host's store, or an outcome saying what to fix: the PostgreSQL database when the
    /// configuration (or WRIT_DATABASE_URL) names one, else the state directory's SQLite file.
    func host() async throws(CommandOutcome) -> HostAdministration {
        let location: PostgresLocation?
        do {
            location = try BrokerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
                .storeLocation()
        } catch {
            throw CommandOutcome.unusable("\(error)")
        }
        if let location {
            do {
                return try await HostAdministration(postgres: location)
            } catch {
                throw CommandOutcome.unusable("cannot open the broker database \(location): \(error)")
            }
        }
        let path = try stateDirectory().url.path
        do {
            return try HostAdministration(state: StateDirectory(path: path))
        } catch let mismatch as BrokerDatabase.SchemaMismatch {
            throw CommandOutcome.unusable(mismatch.description)
        } catch {
            throw CommandOutcome.unusable("cannot open the broker database in \(path): \(error)")
        }
    }

    /// How the audit log names whoever runs the verb.
    static var actor: String { "cli:\(NSUserName())" }
}

/// `writ operator create NAME`.
public struct CreateOperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an operator and print its token once.",
        discussion: """
            The token is printed (or written to --out, mode 0600) once and never stored: only its Argon2id hash \
            is. Roles: admin (the whole admin API), introspect (RFC 7662 introspection and the revocation feed, \
            for resource servers without a workload identity) or metrics (only /metrics, for a scraper).

            Examples:
              writ operator create alice --out ~/.config/writ/alice.token
              writ operator create docs-service --role introspect
            """
    )

    @OptionGroup var options: StateOptions

    @Argument(help: "A name for people and the audit log.")
    var name: String

    @Option(help: "admin, introspect or metrics.")
    var role: String = "admin"

    @Option(help: "Write the token to this file (mode 0600) instead of printing it.")
    var out: String?

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        guard let parsedRole = OperatorRole(rawValue: role) else {
            return .unusable("--role must be admin, introspect or metrics")
        }
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ !$0.isWhitespace && !$0.isNewline }) else {
            return .unusable("the name must be 1 to 64 characters without spaces")
        }
        if let out, FileManager.default.fileExists(atPath: out) {
            return .unusable("\(out) exists; choose another --out (a token file is never overwritten)")
        }
        let host: HostAdministration
        do { host = try await options.host() } catch { return error }
        let existing = try? await host.fetchOperator(nameOrID: name)
        if existing != nil { return .unusable("an operator named \(name) exists; choose another name") }
        let token: String
        do {
            token = try await host.createOperator(name: name, role: parsedRole, by: StateOptions.actor, now: Date())
        } catch {
            return .unusable("cannot create the operator: \(error)")
        }
        if let out {
            do {
                try SecretFile.write(Array((token + "\n").utf8), to: out)
            } catch {
                return .unusable("the operator was created but \(out) cannot be written: \(error); revoke it")
            }
            if options.json {
                return .json(
                    .object(["name": .string(name), "role": .string(role), "token_file": .string(out)])
                )
            }
            return CommandOutcome(output: "created operator \(name) (\(role)); token written to \(out)", exitCode: 0)
        }
        if options.json {
            return .json(
                .object(["name": .string(name), "role": .string(role), "token": .string(token)])
            )
        }
        return CommandOutcome(
            output: "created operator \(name) (\(role)); its token, shown this once:\n\(token)",
            exitCode: 0
        )
    }
}

/// `writ operator list`.
public struct ListOperatorsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List operators (never their tokens).",
        discussion: """
            Example:
              writ operator list --state /var/lib/writ
            """
    )

    @OptionGroup var options: StateOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        let host: HostAdministration
        do { host = try await options.host() } catch { return error }
        let records: [OperatorRecord]
        do {
            records = try await host.listOperators()
        } catch {
            return .unusable("cannot read the operators: \(error)")
        }
        if options.json {
            let items: [JSONValue] = records.map { record in
                var members: [String: JSONValue] = [
                    "id": .string(record.id), "name": .string(record.name), "role": .string(record.role.rawValue),
                    "created_at": .integer(record.createdAt.numericDate),
                ]
                if let revokedAt = record.revokedAt { members["revoked_at"] = .integer(revokedAt.numericDate) }
                return .object(members)
            }
            return .json(.object(["operators": .array(items)]))
        }
        var table = Table("NAME", "ID", "ROLE", "CREATED", "REVOKED")
        for record in records {
            table.add(
                record.name,
                record.id,
                record.role.rawValue,
                Render.iso8601(record.createdAt),
                record.revokedAt.map(Render.iso8601) ?? "-"
            )
        }
        return CommandOutcome(output: table.text, exitCode: 0)
    }
}

/// `writ operator revoke NAME`.
public struct RevokeOperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an operator's token, by name or id.",
        discussion: """
            Example:
              writ operator revoke alice
            """
    )

    @OptionGroup var options: StateOptions

    @Argument(help: "The operator's name or id.")
    var name: String

    @Flag(help: "Revoke even the last active admin (the broker then has none until `writ operator create`).")
    var force = false

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        let host: HostAdministration
        do { host = try await options.host() } catch { return error }
        if !force, let record = try? await host.fetchOperator(nameOrID: name), record.role == .admin,
            record.revokedAt == nil
        {
            if (try? await host.countActiveAdmins()) == 1 {
                return .unusable(
                    "\(name) is the last active admin; create another first (`writ operator create NAME`) "
                        + "or pass --force"
                )
            }
        }
        let record: OperatorRecord?
        do {
            record = try await host.revokeOperator(nameOrID: name, by: StateOptions.actor, now: Date())
        } catch {
            return .unusable("cannot revoke: \(error)")
        }
        guard let record else {
            return CommandOutcome(
                output: "error: no operator named \(name); `writ operator list` shows them",
                exitCode: WritExitCode.notFound
            )
        }
        if options.json {
            return .json(
                .object([
                    "name": .string(record.name), "id": .string(record.id),
                    "revoked_at": .integer((record.revokedAt ?? Date()).numericDate),
                ])
            )
        }
        return CommandOutcome(
            output: "revoked operator \(record.name) (\(record.id)); its token is refused from now on",
            exitCode: 0
        )
    }
}

/// `writ completion SHELL`.
public struct CompletionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: """
            Examples:
              writ completion bash > /etc/bash_completion.d/writ
              writ completion zsh > "${fpath[1]}/_writ"
              writ completion fish > ~/.config/fish/completions/writ.fish
            """
    )

    @Argument(help: "bash, zsh or fish.")
    var shell: String

    public init() {}

    public func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            throw ValidationError("the shell must be bash, zsh or fish")
        }
        print(WritCommand.completionScript(for: kind))
    }
}
