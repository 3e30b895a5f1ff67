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
        let stores = try BrokerStores.sqlite(path: state.database.path)
        let signingKeys = try await SigningKeys.loadOrCreate(store: stores.keys, directory: state.keys, now: now)
        let policyDirectory = URL(fileURLWithPath: configuration.policies, isDirectory: true)
        let policies: PolicySet
        switch PolicyLoader.load(directory: policyDirectory) {
        case .success(let set): policies = set
        case .failure(let errors):
            throw BrokerConfiguration.Problem(code: "invalid_policies", message: "the policies do not load:\n\(errors)")
        }
        var workloadIssuers = try configuration.workloadIssuers.map {
            try Self.issuer($0, configuration: configuration)
        }
        var userIssuers = try configuration.userIssuers.map { try Self.userIssuer($0, configuration: configuration) }
        if configuration.development {
            let workloadKey = try state.developmentKey(named: DevelopmentIdentity.workloadKeyName)
            let userKey = try state.developmentKey(named: DevelopmentIdentity.userKeyName)
            let workloadJWKS = state.development.appendingPathComponent("trust-domain.jwks.json")
            let userJWKS = state.development.appendingPathComponent("identity-provider.jwks.json")
            try DevelopmentIdentity.jwks(workloadKey).write(to: workloadJWKS, atomically: true, encoding: .utf8)
            try DevelopmentIdentity.jwks(userKey).write(to: userJWKS, atomically: true, encoding: .utf8)
            workloadIssuers.append(
                IdentityIssuer(
                    name: "development:\(configuration.developmentTrustDomain)",
                    kind: .jwtSVID,
                    trustDomain: configuration.developmentTrustDomain,
                    issuer: nil,
                    audience: configuration.audience,
                    keys: .file(workloadJWKS.path)
                )
            )
            userIssuers.append(
                IdentityIssuer(
                    name: "development-idp",
                    kind: .user,
                    trustDomain: nil,
                    issuer: DevelopmentIdentity.userIssuer,
                    audience: configuration.audience,
                    keys: .file(userJWKS.path)
                )
            )
        }
        let identities = IdentityRegistry(workloadIssuers: workloadIssuers, userIssuers: userIssuers)
        var bundleSources = configuration.trustBundles.map { bundle in
            TrustBundleSource(
                trustDomain: bundle.trustDomain,
                file: bundle.pemFile ?? bundle.spiffeBundleFile ?? "",
                format: bundle.pemFile != nil ? .pem : .spiffeBundle
            )
        }
        var tlsContext: NIOSSLContext?
        if configuration.development {
            let ca = try DevelopmentCA.loadOrCreate(
                in: state,
                trustDomain: configuration.developmentTrustDomain,
                now: now
            )
            bundleSources.append(
                TrustBundleSource(
                    trustDomain: configuration.developmentTrustDomain,
                    file: state.development.appendingPathComponent(DevelopmentCA.certificateFile).path,
                    format: .pem
                )
            )
            if let tls = configuration.tls, tls.certificate == nil {
                let (certificate, key) = try ca.issueServerCertificate(now: now)
                let chainPEM = try DevelopmentCA.pem(certificate) + DevelopmentCA.pem(ca.certificate)
                tlsContext = try Self.tlsContext(certificatePEM: chainPEM, keyPEM: key)
            }
        }
        if let tls = configuration.tls, let certificate = tls.certificate, let key = tls.key {
            do {
                tlsContext = try Self.tlsContext(
                    certificatePEM: try String(contentsOfFile: certificate, encoding: .utf8),
                    keyPEM: try String(contentsOfFile: key, encoding: .utf8)
                )
            } catch {
                throw BrokerConfiguration.Problem(
                    code: "invalid_tls_certificate",
                    message: "tls.certificate \(certificate) and tls.key \(key) are not a PEM certificate chain and "
                        + "its private key (\(error)); give the listener's certificate and key files"
                )
            }
        }
        let mutualTLSBase = configuration.tls.flatMap { tls in tlsContext == nil ? nil : "https://\(tls.listen)" }
        let settings = try BrokerSettings(configuration, keyDirectory: state.keys, mutualTLSBase: mutualTLSBase)
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
        guard let address = configuration.address else {
            throw BrokerConfiguration.Problem(code: "invalid_value", message: "listen must be HOST:PORT")
        }
        let connections = configuration.limits.connections(listeners: tlsContext == nil ? 1 : 2)
        self.application = Application(
            router: routes.router(),
            server: .http1(configuration: connections.http1),
            configuration: .init(
                address: .hostname(address.host, port: address.port),
                serverName: nil,
                availableConnectionsDelegate: connections.cap(logger: logger)
            ),
            logger: logger
        )
        if let tls = configuration.tls, let tlsContext, let address = BrokerConfiguration.hostAndPort(tls.listen) {
            self.mutualTLSApplication = Application(
                router: routes.router(),
                server: .mutualTLS(context: tlsContext, configuration: connections.http1),
                configuration: .init(
                    address: .hostname(address.host, port: address.port),
                    serverName: nil,
                    availableConnectionsDelegate: connections.cap(logger: logger)
                ),
                logger: logger
            )
        } else {
            self.mutualTLSApplication = nil
        }
        self.broker = broker
        self.state = state
        self.lock = lock
        self.services = [
            MaintenanceService(
                broker: broker,
                interval: .seconds(configuration.maintenance.tickSeconds),
                auditRetention: TimeInterval(configuration.maintenance.auditRetentionDays) * 86_400,
                logger: logger
            ),
            PolicyWatcher(broker: broker, directory: policyDirectory, logger: logger),
        ]
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
        let operators = try await broker.stores.operators.count()
        guard operators == 0 else {
            let admins = try await broker.stores.operators.countActiveAdmins()
            if admins == 0 {
                logger.warning("no admin operator is active; make one with `writ operator create NAME` on this host")
            }
            return nil
        }
        let token = try await broker.operators.create(name: "bootstrap", role: .admin, now: broker.clock.now)
        try? FileManager.default.removeItem(at: state.operatorToken)
        try SecretFile.write(Array((token + "\n").utf8), to: state.operatorToken.path)
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

    private static func issuer(
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

    private static func userIssuer(
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

    private static func source(_ entry: BrokerConfiguration.Issuer) throws(BrokerConfiguration.Problem) -> KeySource {
        if let file = entry.jwksFile { return .file(file) }
        if let url = entry.jwksURL { return .url(url) }
        throw BrokerConfiguration.Problem(code: "invalid_value", message: "an issuer needs jwks_file or jwks_url")
    }
}
