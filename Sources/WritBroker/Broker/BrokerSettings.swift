public import Foundation

/// Settings that shape issuance.
public struct BrokerSettings: Sendable {
    /// `iss` of every token, and the base of the broker's URLs.
    public var issuer: String
    /// A token's lifetime when the policy allows longer.
    public var defaultTokenLifetime: TimeInterval = 300
    /// No token lives longer than this, whatever the policy says; it also bounds how long a revocation of
    /// a workload, user or time is kept in the feed.
    public var maximumTokenLifetime: TimeInterval = 3600
    /// Open tasks one workload may have.
    public var openTaskLimit = 100
    /// Requests a second per workload, sustained.
    public var requestsPerSecond: Double = 100
    /// Burst per workload.
    public var burst: Double = 200
    /// Whether DPoP proofs at the token endpoint must carry a nonce from the broker (RFC 9449 §8).
    public var requireDPoPNonces = false

    /// Settings for an issuer URL.
    public init(issuer: String) { self.issuer = issuer }

    /// How long a new signing key is published before it signs: longer than verifiers' JWKS refresh
    /// interval, so none meets a token signed with a key it has not fetched.
    public var keyPublishLead: TimeInterval = 600
    /// Where signing keys are written; rotation needs it.
    public var keyDirectory: URL?

    /// The base URL of the mutual-TLS listener, when there is one.
    public var mutualTLSBase: String?

    /// The resource servers, which read the revocation feed and introspect with their own identity.
    public var resourceServers = ResourceServerRegistry([])
    /// Revocation streams one caller (a resource server or operator) may hold open at once, so no caller
    /// can take every slot.
    public var streamsPerCaller = 64

    /// The token endpoint's URL, which DPoP proofs must name.
    public var tokenEndpoint: String { issuer + "/v1/token" }

    /// The token endpoint's URL on the mutual-TLS listener.
    public var mutualTLSTokenEndpoint: String? { mutualTLSBase.map { $0 + "/v1/token" } }
}

extension Broker {
    /// The broker's settings.
    public typealias Settings = BrokerSettings
}
