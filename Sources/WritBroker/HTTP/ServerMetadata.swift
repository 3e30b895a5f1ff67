import WritAPI
import WritPolicy
import WritToken

/// The broker's discovery documents: RFC 8414 metadata and the SPIFFE bundle of its signing keys.
enum ServerMetadata {
    /// The algorithms of the workload assertions the broker verifies (`private_key_jwt`'s client assertions).
    static let assertionAlgorithms = ["ES256", "EdDSA", "RS256"]

    /// The authorization server metadata, with the detail types and scopes of the policies in force; with a
    /// mutual-TLS listener, its endpoint aliases (RFC 8705 §5).
    static func document(
        issuer: String,
        policies: PolicySet = .empty,
        mutualTLSBase: String? = nil
    ) -> AuthorizationServerMetadata {
        let scopes = policies.scopeValues
        return AuthorizationServerMetadata(
            issuer: issuer,
            authorizationEndpoint: issuer + "/v1/authorize",
            tokenEndpoint: issuer + "/v1/token",
            jwksURI: issuer + "/.well-known/jwks.json",
            revocationEndpoint: issuer + "/v1/revoke",
            introspectionEndpoint: issuer + "/v1/introspect",
            grantTypesSupported: TokenRequest.grantTypes,
            // Token exchange needs no client authentication (its actor_token is the credential) but is not a
            // public client's `none`: every grant proves the workload, so `none` is not listed.
            tokenEndpointAuthMethodsSupported: ["private_key_jwt"] + (mutualTLSBase == nil ? [] : ["tls_client_auth"]),
            revocationEndpointAuthMethodsSupported: ["private_key_jwt", "bearer"],
            introspectionEndpointAuthMethodsSupported: ["private_key_jwt", "bearer"],
            clientAssertionAlgorithms: assertionAlgorithms,
            authorizationDetailsTypesSupported: policies.permittedTypes,
            scopesSupported: scopes.isEmpty ? nil : scopes,
            dpopSigningAlgValuesSupported: ["ES256", "EdDSA"],
            responseTypesSupported: ["none"],
            writRevocationFeedEndpoint: issuer + "/v1/revocations",
            writRevocationStreamEndpoint: issuer + "/v1/revocations/stream",
            writTasksEndpoint: issuer + "/v1/tasks",
            // Where clients authenticating with certificates send their requests.
            mtlsEndpointAliases: mutualTLSBase.map {
                MutualTLSEndpointAliases(tokenEndpoint: $0 + "/v1/token", revocationEndpoint: $0 + "/v1/revoke")
            },
            tlsClientCertificateBoundAccessTokens: mutualTLSBase == nil ? nil : true
        )
    }

    /// The signing keys as a SPIFFE bundle's JWT authorities (`use: jwt-svid`).
    static func spiffeBundle(_ keys: SigningKeys) -> SPIFFEBundleDocument {
        let entries: [JSONValue] = keys.published.keys.keys.sorted().compactMap { kid in
            guard var members = keys.published.keys[kid]?.jwk.objectValue else { return nil }
            members["use"] = .string("jwt-svid")
            return .object(members)
        }
        return SPIFFEBundleDocument(keys: entries, spiffeRefreshHint: 300)
    }
}
