public import WritToken

/// `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata, Writ's own endpoints (`writ_…`), and RFC
/// 8705's mutual-TLS members when the broker has a mutual-TLS listener. The broker always sends every member
/// but the mutual-TLS ones and `scopes_supported` (sent when the policy files map scopes), so this type
/// requires them: a body without one is not the broker's.
public struct AuthorizationServerMetadata: WireMessage {
    /// The broker's issuer.
    public var issuer: String
    /// An endpoint that issues nothing: tokens come from the token endpoint. Sent because common client
    /// libraries refuse metadata without one; every request to it is answered with an error saying so.
    public var authorizationEndpoint: String
    /// Where tokens are requested (the URL DPoP proofs name).
    public var tokenEndpoint: String
    /// The published signing keys.
    public var jwksURI: String
    /// RFC 7009 revocation.
    public var revocationEndpoint: String
    /// RFC 7662 introspection.
    public var introspectionEndpoint: String
    /// The grant types the token endpoint takes.
    public var grantTypesSupported: [String]
    /// How clients authenticate at the token endpoint.
    public var tokenEndpointAuthMethodsSupported: [String]
    /// The algorithms of the client assertions (workload identity JWTs) `private_key_jwt` takes.
    public var tokenEndpointAuthSigningAlgValuesSupported: [String]
    /// How clients authenticate at the revocation endpoint.
    public var revocationEndpointAuthMethodsSupported: [String]
    /// The algorithms of client assertions at the revocation endpoint.
    public var revocationEndpointAuthSigningAlgValuesSupported: [String]
    /// How clients authenticate at the introspection endpoint.
    public var introspectionEndpointAuthMethodsSupported: [String]
    /// The algorithms of client assertions at the introspection endpoint.
    public var introspectionEndpointAuthSigningAlgValuesSupported: [String]
    /// The RFC 9396 authorization detail types some policy rule grants.
    public var authorizationDetailsTypesSupported: [String]
    /// The scope values the policy files map to authorization details; nil when they map none.
    public var scopesSupported: [String]?
    /// The algorithms DPoP proofs may use.
    public var dpopSigningAlgValuesSupported: [String]
    /// `none`: the authorization endpoint issues nothing.
    public var responseTypesSupported: [String]
    /// The paged revocation feed.
    public var writRevocationFeedEndpoint: String
    /// The revocation feed as Server-Sent Events.
    public var writRevocationStreamEndpoint: String
    /// Where tasks begin.
    public var writTasksEndpoint: String
    /// RFC 8705 §5: the endpoints on the mutual-TLS listener, when there is one.
    public var mtlsEndpointAliases: MutualTLSEndpointAliases?
    /// RFC 8705 §3.3: tokens may be bound to the client's certificate (sent, `true`, with the aliases).
    public var tlsClientCertificateBoundAccessTokens: Bool?

    /// Metadata; the mutual-TLS members are set when the broker has a mutual-TLS listener.
    public init(
        issuer: String,
        authorizationEndpoint: String,
        tokenEndpoint: String,
        jwksURI: String,
        revocationEndpoint: String,
        introspectionEndpoint: String,
        grantTypesSupported: [String],
        tokenEndpointAuthMethodsSupported: [String],
        revocationEndpointAuthMethodsSupported: [String],
        introspectionEndpointAuthMethodsSupported: [String],
        clientAssertionAlgorithms: [String],
        authorizationDetailsTypesSupported: [String],
        scopesSupported: [String]? = nil,
        dpopSigningAlgValuesSupported: [String],
        responseTypesSupported: [String],
        writRevocationFeedEndpoint: String,
        writRevocationStreamEndpoint: String,
        writTasksEndpoint: String,
        mtlsEndpointAliases: MutualTLSEndpointAliases? = nil,
        tlsClientCertificateBoundAccessTokens: Bool? = nil
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.jwksURI = jwksURI
        self.revocationEndpoint = revocationEndpoint
        self.introspectionEndpoint = introspectionEndpoint
        self.grantTypesSupported = grantTypesSupported
        self.tokenEndpointAuthMethodsSupported = tokenEndpointAuthMethodsSupported
        self.revocationEndpointAuthMethodsSupported = revocationEndpointAuthMethodsSupported
        self.introspectionEndpointAuthMethodsSupported = introspectionEndpointAuthMethodsSupported
        self.tokenEndpointAuthSigningAlgValuesSupported = clientAssertionAlgorithms
        self.revocationEndpointAuthSigningAlgValuesSupported = clientAssertionAlgorithms
        self.introspectionEndpointAuthSigningAlgValuesSupported = clientAssertionAlgorithms
        self.authorizationDetailsTypesSupported = authorizationDetailsTypesSupported
        self.scopesSupported = scopesSupported
        self.dpopSigningAlgValuesSupported = dpopSigningAlgValuesSupported
        self.responseTypesSupported = responseTypesSupported
        self.writRevocationFeedEndpoint = writRevocationFeedEndpoint
        self.writRevocationStreamEndpoint = writRevocationStreamEndpoint
        self.writTasksEndpoint = writTasksEndpoint
        self.mtlsEndpointAliases = mtlsEndpointAliases
        self.tlsClientCertificateBoundAccessTokens = tlsClientCertificateBoundAccessTokens
    }

    /// Reads metadata.
    public init(from object: WireObject) throws(WireError) {
        issuer = try object.string("issuer")
        authorizationEndpoint = try object.string("authorization_endpoint")
        tokenEndpoint = try object.string("token_endpoint")
        jwksURI = try object.string("jwks_uri")
        revocationEndpoint = try object.string("revocation_endpoint")
        introspectionEndpoint = try object.string("introspection_endpoint")
        grantTypesSupported = try object.strings("grant_types_supported")
        tokenEndpointAuthMethodsSupported = try object.strings("token_endpoint_auth_methods_supported")
        revocationEndpointAuthMethodsSupported = try object.strings("revocation_endpoint_auth_methods_supported")
        introspectionEndpointAuthMethodsSupported = try object.strings("introspection_endpoint_auth_methods_supported")
        tokenEndpointAuthSigningAlgValuesSupported = try object.strings(
            "token_endpoint_auth_signing_alg_values_supported"
        )
        revocationEndpointAuthSigningAlgValuesSupported = try object.strings(
            "revocation_endpoint_auth_signing_alg_values_supported"
        )
        introspectionEndpointAuthSigningAlgValuesSupported = try object.strings(
            "introspection_endpoint_auth_signing_alg_values_supported"
        )
        authorizationDetailsTypesSupported = try object.strings("authorization_details_types_supported")
        scopesSupported = try object.optionalStrings("scopes_supported")
        dpopSigningAlgValuesSupported = try object.strings("dpop_signing_alg_values_supported")
        responseTypesSupported = try object.strings("response_types_supported")
        writRevocationFeedEndpoint = try object.string("writ_revocation_feed_endpoint")
        writRevocationStreamEndpoint = try object.string("writ_revocation_stream_endpoint")
        writTasksEndpoint = try object.string("writ_tasks_endpoint")
        mtlsEndpointAliases = try object.optionalValue("mtls_endpoint_aliases")
        tlsClientCertificateBoundAccessTokens = try object.optionalBool("tls_client_certificate_bound_access_tokens")
    }

    /// The metadata as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["issuer"] = .string(issuer)
        members["authorization_endpoint"] = .string(authorizationEndpoint)
        members["token_endpoint"] = .string(tokenEndpoint)
        members["jwks_uri"] = .string(jwksURI)
        members["revocation_endpoint"] = .string(revocationEndpoint)
        members["introspection_endpoint"] = .string(introspectionEndpoint)
        members["grant_types_supported"] = .strings(grantTypesSupported)
        members["token_endpoint_auth_methods_supported"] = .strings(tokenEndpointAuthMethodsSupported)
        members["revocation_endpoint_auth_methods_supported"] = .strings(revocationEndpointAuthMethodsSupported)
        members["introspection_endpoint_auth_methods_supported"] = .strings(introspectionEndpointAuthMethodsSupported)
        members["token_endpoint_auth_signing_alg_values_supported"] = .strings(
            tokenEndpointAuthSigningAlgValuesSupported
        )
        members["revocation_endpoint_auth_signing_alg_values_supported"] = .strings(
            revocationEndpointAuthSigningAlgValuesSupported
        )
        members["introspection_endpoint_auth_signing_alg_values_supported"] = .strings(
            introspectionEndpointAuthSigningAlgValuesSupported
        )
        members["authorization_details_types_supported"] = .strings(authorizationDetailsTypesSupported)
        members["scopes_supported"] = scopesSupported.map { .strings($0) }
        members["dpop_signing_alg_values_supported"] = .strings(dpopSigningAlgValuesSupported)
        members["response_types_supported"] = .strings(responseTypesSupported)
        members["writ_revocation_feed_endpoint"] = .string(writRevocationFeedEndpoint)
        members["writ_revocation_stream_endpoint"] = .string(writRevocationStreamEndpoint)
        members["writ_tasks_endpoint"] = .string(writTasksEndpoint)
        members["mtls_endpoint_aliases"] = mtlsEndpointAliases?.json
        members["tls_client_certificate_bound_access_tokens"] = tlsClientCertificateBoundAccessTokens.json
        return members.json
    }
}

/// RFC 8705 §5: the endpoints a client authenticating with its certificate uses instead. The broker aliases
/// both endpoints a workload calls with its certificate.
public struct MutualTLSEndpointAliases: WireMessage {
    /// The token endpoint on the mutual-TLS listener.
    public var tokenEndpoint: String
    /// The revocation endpoint on the mutual-TLS listener.
    public var revocationEndpoint: String

    /// Aliases.
    public init(tokenEndpoint: String, revocationEndpoint: String) {
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
    }

    /// Reads aliases.
    public init(from object: WireObject) throws(WireError) {
        tokenEndpoint = try object.string("token_endpoint")
        revocationEndpoint = try object.string("revocation_endpoint")
    }

    /// The aliases as JSON.
    public var json: JSONValue {
        .object(["token_endpoint": .string(tokenEndpoint), "revocation_endpoint": .string(revocationEndpoint)])
    }
}
