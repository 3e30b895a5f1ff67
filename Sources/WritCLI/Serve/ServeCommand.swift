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
            With no configuration the broker runs on its embedded defaults: listening on 127.0.0.1:8080, state \
            (SQLite database, signing keys, development keys) in ./.writ, policies from ./policies, and the \
            development trust domain example.org trusted. WRIT_* environment variables override the file; \
            see docs/operations.md.

            Examples:
              writ serve
              writ serve --config /etc/writ/broker.yaml
              WRIT_LISTEN=0.0.0.0:9000 writ serve
            """
    )

    @Option(name: .long, help: "A YAML configuration file.")
    var config: String?

    public init() {}

    public func run() async throws {
        let configuration: BrokerConfiguration
        do {
            configuration = try BrokerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIError("configuration: \(error)")
        }
        var logger = Logger(label: "writ")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let server = try BrokerServer(configuration: configuration, logger: logger)
        if let tokenPath = try await server.prepare(logger: logger) {
            logger.notice("first operator token written", metadata: ["file": "\(tokenPath)"])
        }
        logger.notice(
            "broker starting",
            metadata: [
                "listen": "\(configuration.listen)", "issuer": "\(configuration.issuerURL)",
                "state": "\(configuration.stateDirectory)", "policies": "\(configuration.policies)",
                "rules": "\(server.broker.policies.rules.count)", "development": "\(configuration.development)",
            ]
        )
        try await server.run(logger: logger)
        logger.notice("broker stopped")
    }
}
