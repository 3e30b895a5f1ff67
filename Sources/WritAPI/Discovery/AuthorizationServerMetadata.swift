public import WritToken

/// `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata, with RFC 8705's mutual-TLS aliases when
/// the broker has a mutual-TLS listener and Writ's own endpoints (`writ_…`). Only `issuer`, `token_endpoint`
/// and `jwks_uri` are required, as RFC 8414 has it; the broker sends every member.
public struct AuthorizationServerMetadata: WireMessage {
    /// The broker's issuer.
    public var issuer: String
    /// Where tokens are requested (the URL DPoP proofs name).
    public var tokenEndpoint: String
    /// The published signing keys.
    public var jwksURI: String
    /// RFC 7009 revocation.
    public var revocationEndpoint: String?
    /// RFC 7662 introspection.
    public var introspectionEndpoint: String?
    /// The grant types the token endpoint takes.
    public var grantTypesSupported: [String]?
    /// How clients authenticate at the token endpoint.
    public var tokenEndpointAuthMethodsSupported: [String]?
    /// How clients authenticate at the revocation endpoint.
    public var revocationEndpointAuthMethodsSupported: [String]?
    /// How clients authenticate at the introspection endpoint.
    public var introspectionEndpointAuthMethodsSupported: [String]?
    /// The algorithms DPoP proofs may use.
    public var dpopSigningAlgValuesSupported: [String]?
    /// None: there is no authorization endpoint.
    public var responseTypesSupported: [String]?
    /// The paged revocation feed.
    public var writRevocationFeedEndpoint: String?
    /// The revocation feed as Server-Sent Events.
    public var writRevocationStreamEndpoint: String?
    /// Where tasks begin.
    public var writTasksEndpoint: String?
    /// RFC 8705 §5: the endpoints on the mutual-TLS listener.
    public var mtlsEndpointAliases: MutualTLSEndpointAliases?
    /// RFC 8705 §3.3: tokens may be bound to the client's certificate.
    public var tlsClientCertificateBoundAccessTokens: Bool?

    /// Metadata with the required members; set the others as needed.
    public init(issuer: String, tokenEndpoint: String, jwksURI: String) {
        self.issuer = issuer
        self.tokenEndpoint = tokenEndpoint
        self.jwksURI = jwksURI
    }

    /// Reads metadata.
    public init(from object: WireObject) throws(WireError) {
        issuer = try object.string("issuer")
        tokenEndpoint = try object.string("token_endpoint")
        jwksURI = try object.string("jwks_uri")
        revocationEndpoint = try object.optionalString("revocation_endpoint")
        introspectionEndpoint = try object.optionalString("introspection_endpoint")
        grantTypesSupported = try object.optionalStrings("grant_types_supported")
        tokenEndpointAuthMethodsSupported = try object.optionalStrings("token_endpoint_auth_methods_supported")
        revocationEndpointAuthMethodsSupported = try object.optionalStrings(
            "revocation_endpoint_auth_methods_supported"
        )
        introspectionEndpointAuthMethodsSupported = try object.optionalStrings(
            "introspection_endpoint_auth_methods_supported"
        )
        dpopSigningAlgValuesSupported = try object.optionalStrings("dpop_signing_alg_values_supported")
        responseTypesSupported = try object.optionalStrings("response_types_supported")
        writRevocationFeedEndpoint = try object.optionalString("writ_revocation_feed_endpoint")
        writRevocationStreamEndpoint = try object.optionalString("writ_revocation_stream_endpoint")
        writTasksEndpoint = try object.optionalString("writ_tasks_endpoint")
        mtlsEndpointAliases = try object.optionalValue("mtls_endpoint_aliases")
        tlsClientCertificateBoundAccessTokens = try object.optionalBool("tls_client_certificate_bound_access_tokens")
    }

    /// The metadata as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["issuer"] = .string(issuer)
        members["token_endpoint"] = .string(tokenEndpoint)
        members["jwks_uri"] = .string(jwksURI)
        members["revocation_endpoint"] = revocationEndpoint.json
        members["introspection_endpoint"] = introspectionEndpoint.json
        members["grant_types_supported"] = grantTypesSupported.map(JSONValue.strings)
        members["token_endpoint_auth_methods_supported"] = tokenEndpointAuthMethodsSupported.map(JSONValue.strings)
        members["revocation_endpoint_auth_methods_supported"] = revocationEndpointAuthMethodsSupported.map(
            JSONValue.strings
        )
        members["introspection_endpoint_auth_methods_supported"] = introspectionEndpointAuthMethodsSupported.map(
            JSONValue.strings
        )
        members["dpop_signing_alg_values_supported"] = dpopSigningAlgValuesSupported.map(JSONValue.strings)
        members["response_types_supported"] = responseTypesSupported.map(JSONValue.strings)
        members["writ_revocation_feed_endpoint"] = writRevocationFeedEndpoint.json
        members["writ_revocation_stream_endpoint"] = writRevocationStreamEndpoint.json
        members["writ_tasks_endpoint"] = writTasksEndpoint.json
        members["mtls_endpoint_aliases"] = mtlsEndpointAliases?.json
        members["tls_client_certificate_bound_access_tokens"] = tlsClientCertificateBoundAccessTokens.json
        return members.json
    }
}

/// RFC 8705 §5: endpoints a client authenticating with its certificate uses instead.
public struct MutualTLSEndpointAliases: WireMessage {
    /// The token endpoint on the mutual-TLS listener.
    public var tokenEndpoint: String?
    /// The revocation endpoint on the mutual-TLS listener.
    public var revocationEndpoint: String?

    /// Aliases.
    public init(tokenEndpoint: String? = nil, revocationEndpoint: String? = nil) {
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
    }

    /// Reads aliases.
    public init(from object: WireObject) throws(WireError) {
        tokenEndpoint = try object.optionalString("token_endpoint")
        revocationEndpoint = try object.optionalString("revocation_endpoint")
    }

    /// The aliases as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["token_endpoint"] = tokenEndpoint.json
        members["revocation_endpoint"] = revocationEndpoint.json
        return members.json
    }
}
