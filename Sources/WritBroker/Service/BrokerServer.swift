import AsyncHTTPClient
import Foundation
public import Hummingbird
public import Logging
import NIOSSL
public import ServiceLifecycle
import SwiftASN1
import UnixSignals
import WritPolicy
import WritToken
import X509

/// Everything `writ serve` runs, assembled from a configuration: the broker, its HTTP application and its
/// background services.
public struct BrokerServer: Sendable {
    /// The broker.
    public let broker: Broker
    /// The HTTP application.
    public let application: Application<RouterResponder<BrokerRequestContext>>
    /// The mutual-TLS application, when configured.
    public let mutualTLSApplication: Application<RouterResponder<BrokerRequestContext>>?
    /// Maintenance and policy reloading.
    public let services: [any Service]
    /// The state directory.
    public let state: StateDirectory
    /// Held for the server's life, so tools on the host know a broker holds the state directory.
    let lock: BrokerLock

    /// Builds the server. Fails (without side effects beyond the state directory) when the policies do not
    /// load, the keys cannot be read, or the database cannot be opened.
    public init(configuration: BrokerConfiguration, logger: Logger) async throws {
        let now = Date()
        let state = StateDirectory(path: configuration.stateDirectory)
        try state.prepare()
        let lock = try BrokerLock(state: state)
        let stores = try await Self.stores(configuration, state: state, logger: logger)
        // Brokers starting together on a new database make one first key between them.
        let keyStore = stores.keys
        let signingKeys = try await stores.serializedStartup {
            try await SigningKeys.loadOrCreate(store: keyStore, directory: state.keys, now: now)
        }
        let policyDirectory = URL(fileURLWithPath: configuration.policies, isDirectory: true)
        let policies = try Self.policies(in: policyDirectory)
        let identities = try Self.identities(configuration, state: state)
        let (bundleSources, tlsContext) = try Self.certificates(configuration, state: state, now: now)
        let mutualTLSBase = configuration.tls.flatMap { tls in tlsContext == nil ? nil : "https://\(tls.listen)" }
        var settings = try BrokerSettings(configuration, keyDirectory: state.keys, mutualTLSBase: mutualTLSBase)
        settings.dpopNonceSecret = try state.dpopNonceSecret()
        let broker = try await Broker(
            settings: settings,
            stores: stores,
            policies: policies,
            signingKeys: signingKeys,
            identities: identities,
            bundleSources: bundleSources,
            logger: logger
        )
        broker.certificates.reloadTrustBundles()
        var routes = BrokerRoutes(broker: broker)
        if let forwarded = configuration.forwardedCertificate {
            routes.forwardedCertificateHeader = forwarded.header
            routes.trustedProxies = Set(forwarded.trustedProxies)
        }
        let (application, mutualTLSApplication) = try Self.applications(
            configuration,
            routes: routes,
            tlsContext: tlsContext,
            logger: logger
        )
        self.application = application
        self.mutualTLSApplication = mutualTLSApplication
        self.broker = broker
        self.state = state
        self.lock = lock
        self.services =
            [
                MaintenanceService(
                    broker: broker,
                    interval: .seconds(configuration.maintenance.tickSeconds),
                    auditRetention: TimeInterval(configuration.maintenance.auditRetentionDays) * 86_400,
                    logger: logger
                ),
                PolicyWatcher(broker: broker, directory: policyDirectory, logger: logger),
                SignalPusher(broker: broker, logger: logger),
            ] + (stores.feedNotifier.map { [FeedFollower(broker: broker, notifier: $0)] } ?? [])
            + (stores.leadership.map { [LeadershipService(leadership: $0)] } ?? [])
            + (stores.membership.map { [MembershipService(broker: broker, membership: $0)] } ?? [])
    }

    /// Loads identity keys and makes the first operator token on the very first start (no operator was ever
    /// created); returns the path the token was written to, if one was made. Once every operator has been
    /// revoked, none is made again: `writ operator create` on the broker host makes the next one.
    public func prepare(logger: Logger) async throws -> String? {
        if broker.settings.tokens.keyPublishLead < 360 {
            logger.warning(
                """
                tokens.key_publish_lead is shorter than verifiers' JWKS refresh (300 s) plus caching (60 s): \
                after a rotation some verifiers may meet a key they have not fetched
                """,
                metadata: ["key_publish_lead": "\(broker.settings.tokens.keyPublishLead)"]
            )
        }
        let failed = await broker.identities.refresh(client: .shared, logger: logger)
        if !failed.isEmpty {
            logger.warning("some identity issuers have no keys yet", metadata: ["issuers": "\(failed)"])
        }
        let broker = self.broker
        let state = self.state
        // Brokers starting together on a new database make one first operator between them.
        let made = try await broker.stores.serializedStartup { () async throws -> Bool in
            guard try await broker.stores.operators.count() == 0 else { return false }
            let token = try await broker.operators.create(name: "bootstrap", role: .admin, now: broker.clock.now)
            try? FileManager.default.removeItem(at: state.operatorToken)
            try SecretFile.write(Array((token + "\n").utf8), to: state.operatorToken.path)
            return true
        }
        guard made else {
            let admins = try await broker.stores.operators.countActiveAdmins()
            if admins == 0 {
                logger.warning("no admin operator is active; make one with `writ operator create NAME` on this host")
            }
            return nil
        }
        return state.operatorToken.path
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run(logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: application)] + (mutualTLSApplication.map { [.init(service: $0)] } ?? [])
                    + services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// A server TLS context that asks every client for a certificate; chain checks happen per request.
    static func tlsContext(certificatePEM: String, keyPEM: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        )
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    static func issuer(
        _ entry: BrokerConfiguration.Issuer,
        configuration: BrokerConfiguration
    ) throws(BrokerConfiguration.Problem) -> IdentityIssuer {
        let kind = IdentityIssuer.Kind(rawValue: entry.kind ?? "") ?? .jwtSVID
        return IdentityIssuer(
            name: entry.issuer ?? entry.trustDomain ?? "workload-issuer",
            kind: kind,
            trustDomain: entry.trustDomain,
            issuer: entry.issuer,
            audience: entry.audience ?? configuration.audience,
            keys: try source(entry)
        )
    }

    static func userIssuer(
        _ entry: BrokerConfiguration.Issuer,
        configuration: BrokerConfiguration
    ) throws(BrokerConfiguration.Problem) -> IdentityIssuer {
        IdentityIssuer(
            name: entry.issuer ?? "user-issuer",
            kind: .user,
            trustDomain: nil,
            issuer: entry.issuer,
            audience: entry.audience ?? configuration.audience,
            keys: try source(entry)
        )
    }

    /// A Shared Signals transmitter: its events must name the broker's issuer URL (or the configured
    /// `audience`) in `aud`.
    static func signalTransmitter(
        _ entry: BrokerConfiguration.Issuer,
        configuration: BrokerConfiguration
    ) throws(BrokerConfiguration.Problem) -> IdentityIssuer {
        IdentityIssuer(
            name: "signals:" + (entry.issuer ?? "transmitter"),
            kind: .signals,
            trustDomain: entry.trustDomain,
            issuer: entry.issuer,
            audience: entry.audience ?? configuration.issuerURL,
            keys: try source(entry)
        )
    }

    private static func source(_ entry: BrokerConfiguration.Issuer) throws(BrokerConfiguration.Problem) -> KeySource {
        if let file = entry.jwksFile { return .file(file) }
        if let url = entry.jwksURL { return .url(url) }
        throw BrokerConfiguration.Problem(code: "invalid_value", message: "an issuer needs jwks_file or jwks_url")
    }
}
