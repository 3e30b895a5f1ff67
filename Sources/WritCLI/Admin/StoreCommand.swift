public import ArgumentParser
import Foundation
import WritBroker

/// `writ store …`: the broker's records as a whole.
public struct StoreCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move a broker's records to another store.",
        subcommands: [StoreMigrateCommand.self]
    )

    public init() {}
}

/// `writ store migrate --to postgres://…`.
public struct StoreMigrateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a broker's SQLite records into an empty PostgreSQL database, and check the copy.",
        discussion: """
            Copies tasks, token records, spent DPoP proofs, the revocation feed (numbers unchanged, so verifiers \
            following it carry on), the audit log with its chain and anchor, signing-key records and operators, \
            in one transaction, then reads the copy back and compares it with the source. Run it on the broker \
            host with the broker stopped; the signing keys themselves stay in the state directory's keys/, which \
            brokers on the database must share. Then start brokers with store (WRIT_DATABASE_URL) set to the URL.

            Example:
              writ store migrate --state /var/lib/writ \\
                --to 'postgres://writ@db.example.org/writ' --password-file /etc/writ/db-password
            """
    )

    @Option(help: "The postgres:// URL of the empty database to copy into (or WRIT_DATABASE_URL).")
    var to: String?

    @Option(help: "A file holding only the database password (or WRIT_DATABASE_PASSWORD_FILE).")
    var passwordFile: String?

    @OptionGroup var options: StateOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        let environment = ProcessInfo.processInfo.environment
        guard let url = to ?? environment["WRIT_DATABASE_URL"] else {
            return .unusable("name the database to copy into: --to postgres://USER@HOST/DATABASE")
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(
                url: url,
                passwordFile: passwordFile ?? environment["WRIT_DATABASE_PASSWORD_FILE"]
            )
        } catch {
            return .unusable("invalid_store: \(error.description)")
        }
        let state: StateDirectory
        do { state = try options.stateDirectory() } catch { return error }
        if BrokerLock.isHeld(in: state) {
            return .unusable(
                "a broker is running on \(state.url.path); stop it first, so nothing is written while the copy is made"
            )
        }
        let dump: StoreDump
        do {
            dump = try StoreDump.sqlite(readingOnly: state.database.path)
        } catch {
            return .unusable("cannot read the broker database: \(error)")
        }
        do {
            let database = try await PostgresDatabase(location)
            defer { database.close() }
            try await database.load(dump)
        } catch {
            return CommandOutcome(
                output: "store_migrate_failed: \(error); nothing was kept in \(location)",
                exitCode: WritExitCode.rejected
            )
        }
        var table = Table("RECORDS", "COPIED")
        for (name, count) in dump.counts { table.add(name, String(count)) }
        return CommandOutcome(
            output: table.text + "\ncopied into \(location) and checked: every record, the feed and the audit chain's "
                + "end match the source",
            exitCode: WritExitCode.success
        )
    }
}
