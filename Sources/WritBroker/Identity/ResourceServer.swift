public import WritToken

/// A resource server as a principal: the workloads that may speak for it, and the audience it serves. It
/// authenticates with its own workload identity (a JWT assertion or an X.509-SVID) and then reads what
/// verifiers need — the revocation feed and its stream, and introspection of tokens for its audience.
public struct ResourceServer: Sendable, Hashable {
    /// The audience it serves: `aud` of the tokens it accepts.
    public var audience: String
    /// The SPIFFE IDs that authenticate as it.
    public var workloads: [SPIFFEID]
    /// Where its Shared Signals push streams may deliver: URL prefixes the operator allows. None: it may only poll.
    public var pushEndpoints: [String]

    /// A resource server.
    public init(audience: String, workloads: [SPIFFEID], pushEndpoints: [String] = []) {
        self.audience = audience
        self.workloads = workloads
        self.pushEndpoints = pushEndpoints
    }
}

/// The configured resource servers, looked up by the workload that authenticated.
public struct ResourceServerRegistry: Sendable, Hashable {
    private let audiencesByWorkload: [SPIFFEID: [String]]
    private let pushEndpointsByWorkload: [SPIFFEID: [String]]

    /// A registry of these resource servers.
    public init(_ servers: [ResourceServer]) {
        var audiences: [SPIFFEID: [String]] = [:]
        var endpoints: [SPIFFEID: [String]] = [:]
        for server in servers {
            for workload in server.workloads {
                if !(audiences[workload]?.contains(server.audience) ?? false) {
                    audiences[workload, default: []].append(server.audience)
                }
                endpoints[workload, default: []] += server.pushEndpoints
            }
        }
        audiencesByWorkload = audiences
        pushEndpointsByWorkload = endpoints
    }

    /// Whether a workload's push streams may deliver to `url`: it starts with a prefix the operator allowed for
    /// one of the resource servers the workload speaks for.
    public func allowsPush(to url: String, by workload: SPIFFEID) -> Bool {
        (pushEndpointsByWorkload[workload] ?? []).contains { url.hasPrefix($0) }
    }

    /// The audiences a workload serves; empty when it is not a resource server.
    public func audiences(servedBy workload: SPIFFEID) -> [String] {
        audiencesByWorkload[workload] ?? []
    }
}
