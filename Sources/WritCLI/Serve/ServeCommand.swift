public import ArgumentParser
import Foundation
import Logging
import WritBroker
import WritPolicy

/// `writ serve`: runs the broker.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the broker.",
        discussion: """
            With no configuration the broker runs on its embedded defaults: listening on 127.0.0.1:8080 (mutual \
            TLS on 127.0.0.1:8443), state (SQLite database, signing keys, development keys) in ./.writ, policies \
            from ./policies, and the development trust domain example.org trusted.

            Each setting comes from, first to last: a flag, a WRIT_* environment variable (WRIT_LISTEN, \
            WRIT_TLS_LISTEN, WRIT_STATE_DIR, WRIT_POLICIES, …), the --config file, the default; see \
            docs/operations.md. The development identities are served only on loopback addresses unless \
            --allow-public-development (or WRIT_ALLOW_PUBLIC_DEVELOPMENT=true) says otherwise.

            Before writing anything, serve checks the configuration, the state directory, the policies and that \
            the listen addresses can be bound; a problem exits 2 with a stable code (listen_address_in_use, \
            state_dir_unwritable, config_type_mismatch, no_policies, …) and the setting to fix.

            Examples:
              writ serve
              writ serve --listen 127.0.0.1:9000 --tls-listen off --state-dir /tmp/writ --policies ./policies
              writ serve --config /etc/writ/broker.yaml
              WRIT_LISTEN=127.0.0.1:9000 writ serve
            """
    )

    @Option(name: .long, help: "A YAML configuration file.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Where to listen (or WRIT_LISTEN, listen:).", valueName: "host:port"))
    var listen: String?

    @Option(
        name: .customLong("tls-listen"),
        help: ArgumentHelp(
            "Where the mutual-TLS listener listens, or off (or WRIT_TLS_LISTEN, tls.listen:).",
            valueName: "host:port|off"
        )
    )
    var tlsListen: String?

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("The state directory (or WRIT_STATE_DIR, state_directory:).", valueName: "path")
    )
    var stateDirectory: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The policy directory (or WRIT_POLICIES, policies:).", valueName: "path")
    )
    var policies: String?

    @Flag(
        name: .customLong("allow-public-development"),
        help: "Serve the development identities on a non-loopback address (or WRIT_ALLOW_PUBLIC_DEVELOPMENT=true)."
    )
    var allowPublicDevelopment = false

    public init() {}

    /// The command-line overrides.
    var overrides: BrokerConfiguration.Overrides {
        var overrides = BrokerConfiguration.Overrides()
        overrides.listen = listen
        overrides.tlsListen = tlsListen
        overrides.stateDirectory = stateDirectory
        overrides.policies = policies
        overrides.allowPublicDevelopment = allowPublicDevelopment
        return overrides
    }

    /// The configuration to run with, checked: everything found before anything is written.
    func checkedConfiguration(
        environment: [String: String]
    ) async throws(BrokerConfiguration.Problem)
        -> BrokerConfiguration
    {
        let configuration = try BrokerConfiguration.load(file: config, environment: environment, overrides: overrides)
        try await StartupCheck.run(configuration)
        return configuration
    }

    public func run() async throws {
        let configuration: BrokerConfiguration
        do {
            configuration = try await checkedConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIError(error.description)
        }
        var logger = Logger(label: "writ")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let server: BrokerServer
        do {
            server = try await BrokerServer(configuration: configuration, logger: logger)
        } catch let problem as BrokerConfiguration.Problem {
            throw CLIError(problem.description)
        } catch {
            throw CLIError(
                "startup_failed: the broker could not open its state in \(configuration.stateDirectory) (\(error)); "
                    + "check that it is a Writ state directory this user can write"
            )
        }
        if server.broker.policies.rules.isEmpty {
            logger.warning(
                "no_policies: the policy files hold no rules, so every request is denied",
                metadata: ["policies": "\(configuration.policies)"]
            )
        }
        if let tokenPath = try await server.prepare(logger: logger) {
            logger.notice("first operator token written", metadata: ["file": "\(tokenPath)"])
        }
        logger.notice(
            "broker starting",
            metadata: [
                "listen": "\(configuration.listen)", "issuer": "\(configuration.issuerURL)",
                "state": "\(configuration.stateDirectory)", "policies": "\(configuration.policies)",
                "store": "\((try? configuration.storeLocation())?.map { "\($0)" } ?? "sqlite")",
                "rules": "\(server.broker.policies.rules.count)", "development": "\(configuration.development)",
            ]
        )
        do {
            try await server.run(logger: logger)
        } catch  where StartupCheck.isListenFailure(error) {
            // Another process can still take a port between the check and the bind.
            let value = [configuration.listen, configuration.tls?.listen].compactMap { $0 }.joined(separator: ", ")
            throw CLIError(
                StartupCheck.listenProblem(error, key: nil, value: value, configuration: configuration).description
            )
        }
        logger.notice("broker stopped")
    }
}
