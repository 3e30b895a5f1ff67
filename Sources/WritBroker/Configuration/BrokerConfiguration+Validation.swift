import Foundation
import Logging
import WritToken

extension BrokerConfiguration {
    /// The host and port of a `HOST:PORT` text.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(text[..<colon]), port)
    }

    /// Keys fetched over the network must come over TLS, but for loopback (a local agent or test); the rule is
    /// ``PlainHTTPPolicy``'s, on the parsed host.
    static func checkKeyURL(_ url: String?, at place: String) throws(Problem) {
        guard let url else { return }
        switch PlainHTTPPolicy.verdict(for: url) {
        case .encrypted, .loopback: return
        case .plainToOtherHost(let host):
            throw Problem(
                code: "invalid_value",
                message: "\(place).jwks_url must be https: plain http is allowed only to this machine "
                    + "(127.0.0.0/8, [::1], localhost), and \(host) is not"
            )
        case .refused(let refusal):
            throw Problem(code: "invalid_value", message: "\(place).jwks_url \(url) is refused: \(refusal)")
        }
    }

    /// Checks values that decoding cannot.
    public func validate() throws(Problem) {
        try validateStore()
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw Problem(
                code: "invalid_log_level",
                message: "\(setting("log_level", logLevel)) is not a log level; use one of trace, debug, info, "
                    + "notice, warning, error, critical"
            )
        }
        if let tls {
            guard Self.hostAndPort(tls.listen) != nil else {
                throw Problem(
                    code: "invalid_value",
                    message: "\(setting("tls.listen", tls.listen)) must be HOST:PORT (or off)"
                )
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
        guard address != nil else {
            throw Problem(code: "invalid_value", message: "\(setting("listen", listen)) must be HOST:PORT")
        }
        switch PlainHTTPPolicy.verdict(for: issuerURL) {
        case .refused(let refusal):
            throw Problem(code: "invalid_value", message: "\(setting("issuer", issuerURL)) is refused: \(refusal)")
        case .encrypted, .loopback, .plainToOtherHost: break
        }
        try validateLimits()
        try validateIssuers()
    }

    /// The store's location, when one is set: a URL Writ reads, with a readable password file.
    public func storeLocation() throws(Problem) -> PostgresLocation? {
        guard let store else {
            if storePasswordFile != nil {
                throw Problem(
                    code: "invalid_store",
                    message: "store_password_file (\(origins["store_password_file"] ?? "the configuration file")) is "
                        + "set but store is not: set store (WRIT_DATABASE_URL) to the postgres:// URL it is for"
                )
            }
            return nil
        }
        do {
            return try PostgresLocation(url: store, passwordFile: storePasswordFile)
        } catch {
            // The URL may hold a password: the message names where it came from, never the value.
            throw Problem(
                code: "invalid_store",
                message: "store (\(origins["store"] ?? "the configuration file")) is refused: \(error.description)"
            )
        }
    }

    private func validateStore() throws(Problem) {
        _ = try storeLocation()
    }

    private func validateLimits() throws(Problem) {
        guard tokens.defaultLifetime > 0, tokens.maximumLifetime >= tokens.defaultLifetime else {
            throw Problem(code: "invalid_value", message: "tokens: 0 < default_lifetime <= maximum_lifetime")
        }
        guard (1...3600).contains(tokens.statusListTTL) else {
            throw Problem(code: "invalid_value", message: "tokens.status_list_ttl must be 1 to 3600 seconds")
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
        guard limits.streamsPerCaller > 0, (limits.maxConnections ?? 1) > 0,
            (0.01...86_400).contains(limits.idleTimeout), (0.01...86_400).contains(limits.requestTimeout)
        else {
            throw Problem(
                code: "invalid_value",
                message: "limits.streams_per_caller and max_connections must be positive, and idle_timeout and "
                    + "request_timeout between 0.01 and 86400 seconds"
            )
        }
        _ = try resourceServerRegistry()
    }

    /// The resource servers to register: those configured, or in development with none configured, the
    /// example documents service and the example MCP server (on its default address).
    public func resourceServerRegistry() throws(Problem) -> ResourceServerRegistry {
        var entries = resourceServers
        if entries.isEmpty, development {
            entries = [
                ResourceServerEntry(
                    audience: "https://docs.example.org",
                    workloads: ["spiffe://\(developmentTrustDomain)/services/documents"]
                ),
                ResourceServerEntry(
                    audience: "http://127.0.0.1:8092/mcp",
                    workloads: ["spiffe://\(developmentTrustDomain)/services/tools"]
                ),
            ]
        }
        var servers: [ResourceServer] = []
        for (index, entry) in entries.enumerated() {
            guard !entry.audience.isEmpty, !entry.workloads.isEmpty else {
                throw Problem(
                    code: "invalid_value",
                    message: "resource_servers[\(index)] needs an audience and at least one workload SPIFFE ID"
                )
            }
            var workloads: [SPIFFEID] = []
            for text in entry.workloads {
                guard let id = try? SPIFFEID(text) else {
                    throw Problem(
                        code: "invalid_value",
                        message: "resource_servers[\(index)].workloads: \(text) is not a SPIFFE ID "
                            + "(spiffe://trust-domain/path)"
                    )
                }
                workloads.append(id)
            }
            let pushEndpoints = entry.pushEndpoints ?? []
            for prefix in pushEndpoints {
                let place = "resource_servers[\(index)].push_endpoints"
                guard URL(string: prefix)?.host != nil, prefix.hasSuffix("/") else {
                    throw Problem(code: "invalid_value", message: "\(place): \(prefix) must be a URL ending in /")
                }
                switch PlainHTTPPolicy.verdict(for: prefix) {
                case .encrypted, .loopback: break
                case .plainToOtherHost, .refused:
                    throw Problem(
                        code: "invalid_value",
                        message: "\(place): \(prefix) must be https (plain http only to this machine), no userinfo"
                    )
                }
            }
            servers.append(
                ResourceServer(audience: entry.audience, workloads: workloads, pushEndpoints: pushEndpoints)
            )
        }
        return ResourceServerRegistry(servers)
    }

    private func validateIssuers() throws(Problem) {
        for (index, issuer) in workloadIssuers.enumerated() {
            guard let kind = issuer.kind, let parsed = IdentityIssuer.Kind(rawValue: kind), parsed != .user,
                parsed != .signals
            else {
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
        for (index, transmitter) in signalTransmitters.enumerated() {
            guard let issuer = transmitter.issuer, !issuer.isEmpty else {
                throw Problem(code: "invalid_value", message: "signal_transmitters[\(index)].issuer is required")
            }
            guard (transmitter.jwksFile == nil) != (transmitter.jwksURL == nil) else {
                throw Problem(
                    code: "invalid_value",
                    message: "signal_transmitters[\(index)]: exactly one of jwks_file, jwks_url"
                )
            }
            try Self.checkKeyURL(transmitter.jwksURL, at: "signal_transmitters[\(index)]")
        }
        guard development || !workloadIssuers.isEmpty else {
            throw Problem(
                code: "invalid_value",
                message: "with development off, configure at least one workload issuer"
            )
        }
    }
}
