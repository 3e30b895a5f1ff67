import WritAPI
import WritToken

/// The broker's discovery documents: RFC 8414 metadata and the SPIFFE bundle of its signing keys.
enum ServerMetadata {
    /// The authorization server metadata; with a mutual-TLS listener, its endpoint aliases (RFC 8705 §5).
    static func document(issuer: String, mutualTLSBase: String? = nil) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata(
            issuer: issuer,
            tokenEndpoint: issuer + "/v1/token",
            jwksURI: issuer + "/.well-known/jwks.json",
            revocationEndpoint: issuer + "/v1/revoke",
            introspectionEndpoint: issuer + "/v1/introspect",
            grantTypesSupported: [TokenRequest.grantType],
            tokenEndpointAuthMethodsSupported: ["none"],
            revocationEndpointAuthMethodsSupported: ["bearer"],
            introspectionEndpointAuthMethodsSupported: ["bearer"],
            dpopSigningAlgValuesSupported: ["ES256", "EdDSA"],
            responseTypesSupported: [],
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
