import WritToken

/// The RFC 8414 authorization server metadata document.
enum ServerMetadata {
    static func document(issuer: String, mutualTLSBase: String? = nil) -> JSONValue {
        guard case .object(var members) = base(issuer: issuer) else { return .null }
        if let mutualTLSBase {
            // RFC 8705 §5: where clients authenticating with certificates send their requests.
            members["mtls_endpoint_aliases"] = .object([
                "token_endpoint": .string(mutualTLSBase + "/v1/token"),
                "revocation_endpoint": .string(mutualTLSBase + "/v1/revoke"),
            ])
            members["tls_client_certificate_bound_access_tokens"] = .bool(true)
        }
        return .object(members)
    }

    private static func base(issuer: String) -> JSONValue {
        .object([
            "issuer": .string(issuer),
            "token_endpoint": .string(issuer + "/v1/token"),
            "jwks_uri": .string(issuer + "/.well-known/jwks.json"),
            "revocation_endpoint": .string(issuer + "/v1/revoke"),
            "introspection_endpoint": .string(issuer + "/v1/introspect"),
            "grant_types_supported": .array([.string(TokenRequest.grantType)]),
            "token_endpoint_auth_methods_supported": .array([.string("none")]),
            "revocation_endpoint_auth_methods_supported": .array([.string("bearer")]),
            "introspection_endpoint_auth_methods_supported": .array([.string("bearer")]),
            "dpop_signing_alg_values_supported": .array([.string("ES256"), .string("EdDSA")]),
            "response_types_supported": .array([]),
            "writ_revocation_feed_endpoint": .string(issuer + "/v1/revocations"),
            "writ_revocation_stream_endpoint": .string(issuer + "/v1/revocations/stream"),
            "writ_tasks_endpoint": .string(issuer + "/v1/tasks"),
        ])
    }

    /// The broker's signing keys as a SPIFFE bundle document (a JWKS with SPIFFE's members), so SPIFFE-aware
    /// software can load them as the keys of the broker's tokens.
    static func spiffeBundle(_ keys: SigningKeys) -> JSONValue {
        let entries: [JSONValue] = keys.published.keys.keys.sorted().compactMap { kid in
            guard var members = keys.published.keys[kid]?.jwk.objectValue else { return nil }
            members["use"] = .string("jwt-svid")
            return .object(members)
        }
        return .object(["keys": .array(entries), "spiffe_refresh_hint": .integer(300)])
    }
}
