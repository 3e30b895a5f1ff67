import WritToken

/// The RFC 8414 authorization server metadata document.
enum ServerMetadata {
    static func document(issuer: String) -> JSONValue {
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
}
