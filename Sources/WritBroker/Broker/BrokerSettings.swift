public import Foundation

/// What the services read of the configuration: its `tokens` and `limits` sections as declared there
/// (``BrokerConfiguration/Tokens``, ``BrokerConfiguration/Limits``), and what the server derives from the rest.
public struct BrokerSettings: Sendable {
    /// `iss` of every token, and the base of the broker's URLs.
    public var issuer: String
    /// Token lifetimes and the key publish lead, as configured.
    public var tokens = BrokerConfiguration.Tokens()
    /// Rate, task, body, stream and connection limits, as configured.
    public var limits = BrokerConfiguration.Limits()
    /// Whether DPoP proofs at the token endpoint must carry a nonce from the broker (RFC 9449 §8).
    public var requireDPoPNonces = false
    /// The secret DPoP nonces are derived from, shared by brokers sharing a state directory; nil: random nonces
    /// known to this broker alone.
    public var dpopNonceSecret: [UInt8]?
    /// Where signing keys are written; rotation needs it.
    public var keyDirectory: URL?
    /// The base URL of the mutual-TLS listener, when there is one.
    public var mutualTLSBase: String?
    /// The resource servers, which read the revocation feed and introspect with their own identity.
    public var resourceServers = ResourceServerRegistry([])

    /// Settings for an issuer URL, with every section at its default.
    public init(issuer: String) { self.issuer = issuer }

    /// The settings of a configuration, for a broker whose keys live in `keyDirectory` and which listens for
    /// mutual TLS at `mutualTLSBase` when it does.
    public init(_ configuration: BrokerConfiguration, keyDirectory: URL, mutualTLSBase: String?) throws {
        self.issuer = configuration.issuerURL
        self.tokens = configuration.tokens
        self.limits = configuration.limits
        self.requireDPoPNonces = configuration.dpopNonces
        self.keyDirectory = keyDirectory
        self.mutualTLSBase = mutualTLSBase
        self.resourceServers = try configuration.resourceServerRegistry()
    }

    /// A token's lifetime when the policy allows longer.
    var defaultTokenLifetime: TimeInterval { TimeInterval(tokens.defaultLifetime) }
    /// No token lives longer than this, whatever the policy says; it also bounds how long a revocation of a
    /// workload, user or time is kept in the feed.
    var maximumTokenLifetime: TimeInterval { TimeInterval(tokens.maximumLifetime) }
    /// How long a new signing key is published before it signs.
    var keyPublishLead: TimeInterval { TimeInterval(tokens.keyPublishLead) }

    /// The token endpoint's URL, which DPoP proofs must name.
    public var tokenEndpoint: String { issuer + "/v1/token" }

    /// The token endpoint's URL on the mutual-TLS listener.
    public var mutualTLSTokenEndpoint: String? { mutualTLSBase.map { $0 + "/v1/token" } }
}

extension Broker {
    /// The broker's settings.
    public typealias Settings = BrokerSettings
}
