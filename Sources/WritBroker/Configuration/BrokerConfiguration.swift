import Foundation
import Yams

/// The broker's configuration: embedded defaults, overridden by one YAML file, then by `WRIT_*` environment
/// variables, then by `writ serve`'s flags. Every key is optional; an unknown key is an error, so a typo is never
/// silently ignored.
///
/// Each setting is declared once, here: a property with its default and a case of its type's `CodingKeys`. The
/// file is read by ``parse(yaml:file:)``, which lays it over these defaults and decodes it strictly; the keys it
/// allows are the ones the synthesized `init(from:)` asks for. (Another decoder would need every key present.)
public struct BrokerConfiguration: Sendable, Hashable, Codable {
    /// Where to listen, `HOST:PORT`.
    public var listen = "127.0.0.1:8080"
    /// The issuer URL (`iss`, and the base of every URL the broker publishes); by default `http://LISTEN`.
    public var issuer: String?
    /// The state directory.
    public var stateDirectory = ".writ"
    /// The policy directory.
    public var policies = "policies"
    /// Where the broker keeps its records: unset for the embedded SQLite file in the state directory, or a
    /// `postgres://` URL for a PostgreSQL database (docs/scaling.md).
    public var store: String?
    /// A file holding the PostgreSQL password, so that it is in neither the URL nor the environment.
    public var storePasswordFile: String?
    /// The audience workload and user assertions must name.
    public var audience = "writ"
    /// Whether to create and trust the development trust domain and identity provider. On by default only
    /// when there is no configuration file; a file must say `development: true` to keep it.
    public var development = true
    /// The development trust domain (the example policies use `example.org`).
    public var developmentTrustDomain = "example.org"
    /// Issuers vouching for workloads.
    public var workloadIssuers: [Issuer] = []
    /// Identity providers vouching for users.
    public var userIssuers: [Issuer] = []
    /// Token lifetimes.
    public var tokens = Tokens()
    /// Per-workload limits.
    public var limits = Limits()
    /// Housekeeping.
    public var maintenance = Maintenance()
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// The mutual-TLS listener, where workloads present X.509-SVIDs (on 127.0.0.1:8443 by default with no
    /// configuration file; a file must configure it).
    public var tls: TLS? = TLS(listen: "127.0.0.1:8443")
    /// X.509 trust bundles by trust domain.
    public var trustBundles: [Bundle] = []
    /// Behind a TLS-terminating proxy: where the client certificate arrives.
    public var forwardedCertificate: ForwardedCertificate?
    /// Whether DPoP proofs at the token endpoint must carry a nonce from the broker (RFC 9449 §8).
    public var dpopNonces = false
    /// Resource servers: the workloads that read the revocation feed and introspect for an audience. In
    /// development with none configured, the example documents service
    /// (`spiffe://DEVELOPMENT_TRUST_DOMAIN/services/documents` for `https://docs.example.org`) and the example MCP
    /// server (`spiffe://DEVELOPMENT_TRUST_DOMAIN/services/tools` for `http://127.0.0.1:8092/mcp`).
    public var resourceServers: [ResourceServerEntry] = []
    /// Shared Signals transmitters whose events revoke users and workloads (`issuer`, `jwks_file` or
    /// `jwks_url`, and the `audience` their events name, the broker's issuer URL by default).
    public var signalTransmitters: [Issuer] = []
    /// Whether the development identities may be served on an address other than loopback. Off by default:
    /// anyone who can reach such a listener could use the development trust domain's well-known setup.
    public var allowPublicDevelopment = false
    /// Where each setting that is not the default came from (`WRIT_LISTEN`, `--listen`, `the file broker.yaml`),
    /// by key path, so a problem can name the place to fix.
    public var origins: [String: String] = [:]

    /// The mutual-TLS listener. In development with no file, it listens on 127.0.0.1:8443 with a server
    /// certificate from the development CA.
    public struct TLS: Sendable, Hashable, Codable {
        /// `HOST:PORT`.
        public var listen: String
        /// The server certificate chain (PEM); generated in development when absent.
        public var certificate: String?
        /// The server key (PEM).
        public var key: String?
        enum CodingKeys: String, CodingKey { case listen, certificate, key }
    }

    /// One trust domain's X.509 roots.
    public struct Bundle: Sendable, Hashable, Codable {
        /// The trust domain.
        public var trustDomain: String
        /// A PEM file of root certificates.
        public var pemFile: String?
        /// A SPIFFE bundle (JWKS with `x509-svid` keys carrying `x5c`).
        public var spiffeBundleFile: String?
        enum CodingKeys: String, CodingKey {
            case trustDomain = "trust_domain"
            case pemFile = "pem_file"
            case spiffeBundleFile = "spiffe_bundle_file"
        }
    }

    /// A resource server: the audience it serves and the SPIFFE IDs that authenticate as it.
    public struct ResourceServerEntry: Sendable, Hashable, Codable {
        /// The audience (`aud` of the tokens it accepts).
        public var audience: String
        /// Its workloads' SPIFFE IDs.
        public var workloads: [String]
        /// URL prefixes its Shared Signals push streams may deliver to (https, or http on this machine); none:
        /// poll only.
        public var pushEndpoints: [String]?
        enum CodingKeys: String, CodingKey {
            case audience, workloads
            case pushEndpoints = "push_endpoints"
        }
    }

    /// A TLS-terminating proxy's forwarded client certificate.
    public struct ForwardedCertificate: Sendable, Hashable, Codable {
        /// The header (URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`).
        public var header: String
        /// The proxies' addresses; the header is ignored from anyone else.
        public var trustedProxies: [String]
        enum CodingKeys: String, CodingKey {
            case header
            case trustedProxies = "trusted_proxies"
        }
    }

    /// An issuer of identity assertions.
    public struct Issuer: Sendable, Hashable, Codable {
        /// `jwt-svid`, `kubernetes` or `oidc` for workloads; ignored for user issuers.
        public var kind: String?
        /// The trust domain of its workloads.
        public var trustDomain: String?
        /// The `iss` to pin; required for user issuers, Kubernetes and OIDC.
        public var issuer: String?
        /// The audience to pin; the top-level `audience` by default.
        public var audience: String?
        /// A JWKS file.
        public var jwksFile: String?
        /// A JWKS URL.
        public var jwksURL: String?

        enum CodingKeys: String, CodingKey {
            case kind, issuer, audience
            case trustDomain = "trust_domain"
            case jwksFile = "jwks_file"
            case jwksURL = "jwks_url"
        }
    }

    /// Token lifetimes, in seconds.
    public struct Tokens: Sendable, Hashable, Codable {
        /// A token's lifetime when the policy allows longer.
        public var defaultLifetime = 300
        /// The longest any token lives.
        public var maximumLifetime = 3600
        /// How long a rotated-in signing key is published before it signs; longer than verifiers' JWKS refresh
        /// interval (300 s by default in `WritVerifier`).
        public var keyPublishLead = 600
        /// Seconds a relying party may cache a Token Status List (its `ttl`): the longest a revoked token can
        /// still pass at a server that checks only the list.
        public var statusListTTL = 30
        enum CodingKeys: String, CodingKey {
            case defaultLifetime = "default_lifetime"
            case maximumLifetime = "maximum_lifetime"
            case keyPublishLead = "key_publish_lead"
            case statusListTTL = "status_list_ttl"
        }
    }

    /// Per-workload limits.
    public struct Limits: Sendable, Hashable, Codable {
        /// Sustained requests a second per workload.
        public var requestsPerSecond: Double = 100
        /// Burst per workload.
        public var burst: Double = 200
        /// Open tasks per workload.
        public var openTasks = 100
        /// Largest request body, in bytes.
        public var requestBody = 65536
        /// Revocation streams one caller may hold open: replicas of one resource server share its SPIFFE ID,
        /// so this bounds its replicas that stream (the rest poll).
        public var streamsPerCaller = 64
        /// Seconds a connection may sit idle (a partial request head counts as idle) before it is closed.
        public var idleTimeout: Double = 30
        /// Seconds a request may take to arrive whole once its head has.
        public var requestTimeout: Double = 30
        /// Connections served at once per listener; by default three quarters of the file-descriptor limit
        /// (at most 10,000), shared out between the listeners.
        public var maxConnections: Int?
        enum CodingKeys: String, CodingKey {
            case burst
            case requestsPerSecond = "requests_per_second"
            case openTasks = "open_tasks"
            case requestBody = "request_body"
            case streamsPerCaller = "streams_per_caller"
            case idleTimeout = "idle_timeout"
            case requestTimeout = "request_timeout"
            case maxConnections = "max_connections"
        }

        /// What each of `listeners` listeners allows a connection: without `max_connections`, the default budget
        /// is shared out, so together they never take the descriptors the database needs.
        public func connections(listeners: Int) -> ConnectionLimits {
            var limits = ConnectionLimits()
            limits.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            limits.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
            limits.maximumConnections =
                maxConnections ?? max(32, ConnectionLimits.defaultMaximumConnections / max(listeners, 1))
            return limits
        }
    }

    /// Housekeeping intervals and retention.
    public struct Maintenance: Sendable, Hashable, Codable {
        /// Seconds between expiry sweeps and feed heartbeats.
        public var tickSeconds = 1
        /// Days of audit log kept.
        public var auditRetentionDays = 30
        enum CodingKeys: String, CodingKey {
            case tickSeconds = "tick_seconds"
            case auditRetentionDays = "audit_retention_days"
        }
    }

    enum CodingKeys: String, CodingKey {
        case listen, issuer, policies, audience, development, tokens, limits, maintenance, store
        case stateDirectory = "state_directory"
        case storePasswordFile = "store_password_file"
        case developmentTrustDomain = "development_trust_domain"
        case workloadIssuers = "workload_issuers"
        case userIssuers = "user_issuers"
        case logLevel = "log_level"
        case tls
        case trustBundles = "trust_bundles"
        case forwardedCertificate = "forwarded_certificate"
        case dpopNonces = "dpop_nonces"
        case allowPublicDevelopment = "allow_public_development"
        case resourceServers = "resource_servers"
        case signalTransmitters = "signal_transmitters"
    }

    /// The embedded defaults.
    public init() {}

    /// A configuration or startup problem: a stable code and one sentence naming the setting at fault and what to
    /// do. Codes: `unknown_key`, `invalid_value`, `invalid_yaml`, `config_type_mismatch`, `invalid_log_level`,
    /// `unreadable_file`, `invalid_store`, `store_unavailable`, `public_development`, `state_dir_unwritable`, `state_dir_not_a_directory`,
    /// `policies_missing`, `no_policies`, `invalid_policies`, `listen_address_in_use`,
    /// `listen_permission_denied`, `listen_address_unavailable`, `invalid_tls_certificate`, `startup_failed`.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The stable code.
        public let code: String
        /// What is wrong, where, and what to do.
        public let message: String
        public var description: String { "\(code): \(message)" }

        /// A problem.
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// How a problem names a setting: its key, the value, and where the value came from.
    public func setting(_ key: String, _ value: String) -> String {
        "\(key) \(value) (\(origins[key] ?? "the default"))"
    }

    /// The host and port to listen on.
    public var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    /// The issuer URL, defaulted from the listen address.
    public var issuerURL: String {
        var url = issuer ?? "http://\(listen)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
