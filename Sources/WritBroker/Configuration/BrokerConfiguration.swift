public import Foundation
import Yams

/// The broker's configuration: one YAML file, then environment overrides, then embedded defaults.
/// Every key is optional; an unknown key is an error, so a typo is never silently ignored.
public struct BrokerConfiguration: Sendable, Hashable, Codable {
    /// Where to listen, `HOST:PORT`.
    public var listen = "127.0.0.1:8080"
    /// The issuer URL (`iss`, and the base of every URL the broker publishes); by default `http://LISTEN`.
    public var issuer: String?
    /// The state directory.
    public var stateDirectory = ".writ"
    /// The policy directory.
    public var policies = "policies"
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

    /// The mutual-TLS listener. In development with no file, it listens on 127.0.0.1:8443 with a server
    /// certificate from the development CA.
    public struct TLS: Sendable, Hashable, Codable {
        /// `HOST:PORT`.
        public var listen: String
        /// The server certificate chain (PEM); generated in development when absent.
        public var certificate: String?
        /// The server key (PEM).
        public var key: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case listen, certificate, key }
    }

    /// One trust domain's X.509 roots.
    public struct Bundle: Sendable, Hashable, Codable {
        /// The trust domain.
        public var trustDomain: String
        /// A PEM file of root certificates.
        public var pemFile: String?
        /// A SPIFFE bundle (JWKS with `x509-svid` keys carrying `x5c`).
        public var spiffeBundleFile: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case trustDomain = "trust_domain"
            case pemFile = "pem_file"
            case spiffeBundleFile = "spiffe_bundle_file"
        }
    }

    /// A TLS-terminating proxy's forwarded client certificate.
    public struct ForwardedCertificate: Sendable, Hashable, Codable {
        /// The header (URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`).
        public var header: String
        /// The proxies' addresses; the header is ignored from anyone else.
        public var trustedProxies: [String]
        enum CodingKeys: String, CodingKey, CaseIterable {
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

        enum CodingKeys: String, CodingKey, CaseIterable {
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
        enum CodingKeys: String, CodingKey, CaseIterable {
            case defaultLifetime = "default_lifetime"
            case maximumLifetime = "maximum_lifetime"
            case keyPublishLead = "key_publish_lead"
        }
        init() {}
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            defaultLifetime = try container.decodeIfPresent(Int.self, forKey: .defaultLifetime) ?? defaultLifetime
            maximumLifetime = try container.decodeIfPresent(Int.self, forKey: .maximumLifetime) ?? maximumLifetime
            keyPublishLead = try container.decodeIfPresent(Int.self, forKey: .keyPublishLead) ?? keyPublishLead
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
        enum CodingKeys: String, CodingKey, CaseIterable {
            case burst
            case requestsPerSecond = "requests_per_second"
            case openTasks = "open_tasks"
            case requestBody = "request_body"
        }
        init() {}
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            requestsPerSecond =
                try container.decodeIfPresent(Double.self, forKey: .requestsPerSecond) ?? requestsPerSecond
            burst = try container.decodeIfPresent(Double.self, forKey: .burst) ?? burst
            openTasks = try container.decodeIfPresent(Int.self, forKey: .openTasks) ?? openTasks
            requestBody = try container.decodeIfPresent(Int.self, forKey: .requestBody) ?? requestBody
        }
    }

    /// Housekeeping intervals and retention.
    public struct Maintenance: Sendable, Hashable, Codable {
        /// Seconds between expiry sweeps and feed heartbeats.
        public var tickSeconds = 1
        /// Days of audit log kept.
        public var auditRetentionDays = 30
        enum CodingKeys: String, CodingKey, CaseIterable {
            case tickSeconds = "tick_seconds"
            case auditRetentionDays = "audit_retention_days"
        }
        init() {}
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            tickSeconds = try container.decodeIfPresent(Int.self, forKey: .tickSeconds) ?? tickSeconds
            auditRetentionDays =
                try container.decodeIfPresent(Int.self, forKey: .auditRetentionDays) ?? auditRetentionDays
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, issuer, policies, audience, development, tokens, limits, maintenance
        case stateDirectory = "state_directory"
        case developmentTrustDomain = "development_trust_domain"
        case workloadIssuers = "workload_issuers"
        case userIssuers = "user_issuers"
        case logLevel = "log_level"
        case tls
        case trustBundles = "trust_bundles"
        case forwardedCertificate = "forwarded_certificate"
        case dpopNonces = "dpop_nonces"
    }

    /// The embedded defaults.
    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BrokerConfiguration()
        listen = try container.decodeIfPresent(String.self, forKey: .listen) ?? defaults.listen
        issuer = try container.decodeIfPresent(String.self, forKey: .issuer)
        stateDirectory = try container.decodeIfPresent(String.self, forKey: .stateDirectory) ?? defaults.stateDirectory
        policies = try container.decodeIfPresent(String.self, forKey: .policies) ?? defaults.policies
        audience = try container.decodeIfPresent(String.self, forKey: .audience) ?? defaults.audience
        development = try container.decodeIfPresent(Bool.self, forKey: .development) ?? false
        developmentTrustDomain =
            try container.decodeIfPresent(String.self, forKey: .developmentTrustDomain)
            ?? defaults.developmentTrustDomain
        workloadIssuers = try container.decodeIfPresent([Issuer].self, forKey: .workloadIssuers) ?? []
        userIssuers = try container.decodeIfPresent([Issuer].self, forKey: .userIssuers) ?? []
        tokens = try container.decodeIfPresent(Tokens.self, forKey: .tokens) ?? defaults.tokens
        limits = try container.decodeIfPresent(Limits.self, forKey: .limits) ?? defaults.limits
        maintenance = try container.decodeIfPresent(Maintenance.self, forKey: .maintenance) ?? defaults.maintenance
        logLevel = try container.decodeIfPresent(String.self, forKey: .logLevel) ?? defaults.logLevel
        tls = try container.decodeIfPresent(TLS.self, forKey: .tls)
        trustBundles = try container.decodeIfPresent([Bundle].self, forKey: .trustBundles) ?? []
        forwardedCertificate = try container.decodeIfPresent(ForwardedCertificate.self, forKey: .forwardedCertificate)
        dpopNonces = try container.decodeIfPresent(Bool.self, forKey: .dpopNonces) ?? false
    }

    /// A configuration problem, naming the key or variable at fault.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// A stable code: `unknown_key`, `invalid_value`, `unreadable_file`.
        public let code: String
        /// What is wrong and where.
        public let message: String
        public var description: String { "\(code): \(message)" }
    }

    /// Reads a YAML document, refusing unknown keys.
    public static func parse(yaml text: String) throws(Problem) -> BrokerConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Problem(code: "invalid_value", message: "the configuration is not valid YAML: \(error)")
        }
        guard let node else {
            var empty = BrokerConfiguration()
            empty.development = false
            return empty
        }
        try checkKeys(node, allowed: Set(CodingKeys.allCases.map(\.rawValue)), at: "")
        if let mapping = node.mapping {
            let sections: [String: Set<String>] = [
                "tokens": Set(Tokens.CodingKeys.allCases.map(\.rawValue)),
                "limits": Set(Limits.CodingKeys.allCases.map(\.rawValue)),
                "maintenance": Set(Maintenance.CodingKeys.allCases.map(\.rawValue)),
                "tls": Set(TLS.CodingKeys.allCases.map(\.rawValue)),
                "forwarded_certificate": Set(ForwardedCertificate.CodingKeys.allCases.map(\.rawValue)),
            ]
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                if let allowed = sections[name] { try checkKeys(value, allowed: allowed, at: name + ".") }
                if name == "trust_bundles" {
                    for (index, entry) in (value.sequence ?? []).enumerated() {
                        try checkKeys(
                            entry,
                            allowed: Set(Bundle.CodingKeys.allCases.map(\.rawValue)),
                            at: "\(name)[\(index)]."
                        )
                    }
                }
                if name == "workload_issuers" || name == "user_issuers" {
                    for (index, entry) in (value.sequence ?? []).enumerated() {
                        try checkKeys(
                            entry,
                            allowed: Set(Issuer.CodingKeys.allCases.map(\.rawValue)),
                            at: "\(name)[\(index)]."
                        )
                    }
                }
            }
        }
        do {
            return try YAMLDecoder().decode(BrokerConfiguration.self, from: node)
        } catch {
            throw Problem(code: "invalid_value", message: "\(error)")
        }
    }

    private static func checkKeys(_ node: Node, allowed: Set<String>, at prefix: String) throws(Problem) {
        guard let mapping = node.mapping else { return }
        for key in mapping.keys {
            guard let name = key.string, allowed.contains(name) else {
                throw Problem(
                    code: "unknown_key",
                    message: "unknown key \(prefix)\(key.string ?? "?") in the configuration"
                )
            }
        }
    }

    /// Applies `WRIT_*` environment overrides.
    public mutating func apply(environment: [String: String]) throws(Problem) {
        if let value = environment["WRIT_LISTEN"] { listen = value }
        if let value = environment["WRIT_ISSUER"] { issuer = value }
        if let value = environment["WRIT_STATE_DIR"] { stateDirectory = value }
        if let value = environment["WRIT_POLICIES"] { policies = value }
        if let value = environment["WRIT_LOG_LEVEL"] { logLevel = value }
        if let value = environment["WRIT_TLS_LISTEN"] {
            if value == "off" {
                tls = nil
            } else if tls == nil {
                tls = TLS(listen: value)
            } else {
                tls?.listen = value
            }
        }
        if let value = environment["WRIT_DEVELOPMENT"] {
            guard let flag = Bool(value) else {
                throw Problem(code: "invalid_value", message: "WRIT_DEVELOPMENT must be true or false")
            }
            development = flag
        }
        if let value = environment["WRIT_RATE_LIMIT"] {
            guard let rate = Double(value), rate > 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_RATE_LIMIT must be a positive number")
            }
            limits.requestsPerSecond = rate
            limits.burst = max(limits.burst, rate * 2)
        }
        if let value = environment["WRIT_KEY_PUBLISH_LEAD"] {
            guard let seconds = Int(value), seconds >= 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_KEY_PUBLISH_LEAD must be a number of seconds")
            }
            tokens.keyPublishLead = seconds
        }
        if let value = environment["WRIT_OPEN_TASKS"] {
            guard let count = Int(value), count > 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_OPEN_TASKS must be a positive integer")
            }
            limits.openTasks = count
        }
    }

    /// Loads a file (when given), then the environment.
    public static func load(file: String?, environment: [String: String]) throws(Problem) -> BrokerConfiguration {
        var configuration = BrokerConfiguration()
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Problem(code: "unreadable_file", message: "cannot read \(file)")
            }
            configuration = try parse(yaml: String(decoding: data, as: UTF8.self))
        }
        try configuration.apply(environment: environment)
        try configuration.validate()
        return configuration
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

    /// Keys fetched over the network must come over TLS, but for loopback (a local agent or test).
    static func checkKeyURL(_ url: String?, at place: String) throws(Problem) {
        guard let url else { return }
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { url.hasPrefix($0) }
        guard url.hasPrefix("https://") || loopback else {
            throw Problem(code: "invalid_value", message: "\(place).jwks_url must be https (http only on loopback)")
        }
    }

    /// The host and port of a `HOST:PORT` text.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(text[..<colon]), port)
    }

    /// Checks values that decoding cannot.
    public func validate() throws(Problem) {
        if let tls {
            guard Self.hostAndPort(tls.listen) != nil else {
                throw Problem(code: "invalid_value", message: "tls.listen must be HOST:PORT")
            }
            guard (tls.certificate == nil) == (tls.key == nil), development || tls.certificate != nil else {
                throw Problem(
                    code: "invalid_value",
                    message: "tls needs both certificate and key (generated only in development)"
                )
            }
        }
        for (index, bundle) in trustBundles.enumerated() {
            guard (bundle.pemFile == nil) != (bundle.spiffeBundleFile == nil) else {
                throw Problem(
                    code: "invalid_value",
                    message: "trust_bundles[\(index)]: exactly one of pem_file, spiffe_bundle_file"
                )
            }
        }
        if let forwarded = forwardedCertificate, forwarded.trustedProxies.isEmpty {
            throw Problem(code: "invalid_value", message: "forwarded_certificate.trusted_proxies must name the proxies")
        }
        guard address != nil else { throw Problem(code: "invalid_value", message: "listen must be HOST:PORT") }
        guard issuerURL.hasPrefix("https://") || issuerURL.hasPrefix("http://") else {
            throw Problem(code: "invalid_value", message: "issuer must be an http(s) URL")
        }
        guard tokens.defaultLifetime > 0, tokens.maximumLifetime >= tokens.defaultLifetime else {
            throw Problem(code: "invalid_value", message: "tokens: 0 < default_lifetime <= maximum_lifetime")
        }
        guard tokens.keyPublishLead >= 0 else {
            throw Problem(code: "invalid_value", message: "tokens.key_publish_lead must not be negative")
        }
        guard limits.openTasks > 0, limits.requestsPerSecond > 0, limits.burst >= 1, limits.requestBody >= 1024 else {
            throw Problem(code: "invalid_value", message: "limits must be positive (request_body at least 1024)")
        }
        guard maintenance.tickSeconds > 0, maintenance.auditRetentionDays > 0 else {
            throw Problem(code: "invalid_value", message: "maintenance values must be positive")
        }
        for (index, issuer) in workloadIssuers.enumerated() {
            guard let kind = issuer.kind, let parsed = IdentityIssuer.Kind(rawValue: kind), parsed != .user else {
                throw Problem(
                    code: "invalid_value",
                    message: "workload_issuers[\(index)].kind must be jwt-svid, kubernetes or oidc"
                )
            }
            guard issuer.trustDomain != nil else {
                throw Problem(code: "invalid_value", message: "workload_issuers[\(index)].trust_domain is required")
            }
            if parsed != .jwtSVID, issuer.issuer == nil {
                throw Problem(
                    code: "invalid_value",
                    message: "workload_issuers[\(index)].issuer is required for \(kind)"
                )
            }
            guard (issuer.jwksFile == nil) != (issuer.jwksURL == nil) else {
                throw Problem(
                    code: "invalid_value",
                    message: "workload_issuers[\(index)]: exactly one of jwks_file, jwks_url"
                )
            }
            try Self.checkKeyURL(issuer.jwksURL, at: "workload_issuers[\(index)]")
        }
        for (index, issuer) in userIssuers.enumerated() {
            guard issuer.issuer != nil else {
                throw Problem(code: "invalid_value", message: "user_issuers[\(index)].issuer is required")
            }
            guard (issuer.jwksFile == nil) != (issuer.jwksURL == nil) else {
                throw Problem(
                    code: "invalid_value",
                    message: "user_issuers[\(index)]: exactly one of jwks_file, jwks_url"
                )
            }
            try Self.checkKeyURL(issuer.jwksURL, at: "user_issuers[\(index)]")
        }
        guard development || !workloadIssuers.isEmpty else {
            throw Problem(
                code: "invalid_value",
                message: "with development off, configure at least one workload issuer"
            )
        }
    }
}
