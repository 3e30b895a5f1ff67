import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOSSL
import WritPolicy
import WritToken

extension BrokerServer {
    /// The policies of a directory, or a startup problem listing every error in them.
    static func policies(in directory: URL) throws -> PolicySet {
        switch PolicyLoader.load(directory: directory) {
        case .success(let set): return set
        case .failure(let errors):
            throw BrokerConfiguration.Problem(code: "invalid_policies", message: "the policies do not load:\n\(errors)")
        }
    }

    /// The stores: PostgreSQL when `store` names a database, else the SQLite file in the state directory.
    static func stores(
        _ configuration: BrokerConfiguration,
        state: StateDirectory,
        logger: Logger
    ) async throws
        -> BrokerStores
    {
        guard let location = try configuration.storeLocation() else {
            return try BrokerStores.sqlite(path: state.database.path)
        }
        do {
            return .postgres(try await PostgresDatabase(location, logger: logger))
        } catch {
            throw BrokerConfiguration.Problem(
                code: "store_unavailable",
                message: "the store \(location) cannot be used: \(error); check that PostgreSQL runs there and "
                    + "accepts this user (the password comes from store_password_file or the URL)"
            )
        }
    }

    /// The configured workload and user issuers, and in development mode the development trust domain's and
    /// identity provider's (their keys kept in the state directory, their JWKS written beside them).
    static func identities(_ configuration: BrokerConfiguration, state: StateDirectory) throws -> IdentityRegistry {
        var workloadIssuers = try configuration.workloadIssuers.map { try issuer($0, configuration: configuration) }
        var userIssuers = try configuration.userIssuers.map { try userIssuer($0, configuration: configuration) }
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
        return IdentityRegistry(
            workloadIssuers: workloadIssuers,
            userIssuers: userIssuers,
            signalTransmitters: try configuration.signalTransmitters.map {
                try signalTransmitter($0, configuration: configuration)
            }
        )
    }

    /// The X.509 trust bundles' sources, and the mutual-TLS listener's TLS context when it has one: the
    /// configured certificate, or in development mode one from the development CA (whose root is then a bundle).
    static func certificates(
        _ configuration: BrokerConfiguration,
        state: StateDirectory,
        now: Date
    ) throws -> ([TrustBundleSource], NIOSSLContext?) {
        var sources = configuration.trustBundles.map { bundle in
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
            sources.append(
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
        return (sources, tlsContext)
    }

    /// The HTTP listener and, with a TLS context, the mutual-TLS listener, sharing the connection budget.
    static func applications(
        _ configuration: BrokerConfiguration,
        routes: BrokerRoutes,
        tlsContext: NIOSSLContext?,
        logger: Logger
    ) throws -> (
        Application<RouterResponder<BrokerRequestContext>>, Application<RouterResponder<BrokerRequestContext>>?
    ) {
        guard let address = configuration.address else {
            throw BrokerConfiguration.Problem(code: "invalid_value", message: "listen must be HOST:PORT")
        }
        let connections = configuration.limits.connections(listeners: tlsContext == nil ? 1 : 2)
        let application = Application(
            router: routes.router(),
            server: .http1(configuration: connections.http1),
            configuration: .init(
                address: .hostname(address.host, port: address.port),
                serverName: nil,
                availableConnectionsDelegate: connections.cap(logger: logger)
            ),
            logger: logger
        )
        guard let tls = configuration.tls, let tlsContext, let tlsAddress = BrokerConfiguration.hostAndPort(tls.listen)
        else { return (application, nil) }
        let mutualTLS = Application(
            router: routes.router(),
            server: .mutualTLS(context: tlsContext, configuration: connections.http1),
            configuration: .init(
                address: .hostname(tlsAddress.host, port: tlsAddress.port),
                serverName: nil,
                availableConnectionsDelegate: connections.cap(logger: logger)
            ),
            logger: logger
        )
        return (application, mutualTLS)
    }
}
