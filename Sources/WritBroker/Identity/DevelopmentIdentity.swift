public import Foundation
public import WritToken

/// The development trust domain and identity provider that `make run` trusts, so the broker can be tried
/// without SPIRE or an identity provider. Their keys live in the state directory; `writ dev
/// workload-token` and `writ dev user-token` sign assertions with them. Turn development off in production.
public enum DevelopmentIdentity {
    /// The `iss` of development user assertions (`.invalid` is reserved: it can never be a real issuer).
    public static let userIssuer = "https://dev-idp.writ.invalid"
    /// The key file name (in STATE/dev) of the development trust domain.
    public static let workloadKeyName = "trust-domain"
    /// The key file name (in STATE/dev) of the development identity provider.
    public static let userKeyName = "identity-provider"

    /// A JWT-SVID for `workload`, valid for `lifetime` seconds.
    public static func workloadAssertion(
        for workload: SPIFFEID,
        audience: String,
        key: SigningKey,
        now: Date,
        lifetime: TimeInterval = 3600
    ) throws(KeyError) -> String {
        try sign(
            [
                "sub": .string(workload.description), "aud": .array([.string(audience)]),
                "iat": .integer(now.numericDate), "exp": .integer(now.addingTimeInterval(lifetime).numericDate),
            ],
            key: key
        )
    }

    /// An ID token for a user with extra claims (department, groups, email…).
    public static func userAssertion(
        subject: String,
        claims: [String: JSONValue],
        audience: String,
        key: SigningKey,
        now: Date,
        lifetime: TimeInterval = 3600
    ) throws(KeyError) -> String {
        var payload = claims
        payload["iss"] = .string(userIssuer)
        payload["sub"] = .string(subject)
        payload["aud"] = .string(audience)
        payload["iat"] = .integer(now.numericDate)
        payload["exp"] = .integer(now.addingTimeInterval(lifetime).numericDate)
        return try sign(payload, key: key)
    }

    /// The JWKS document publishing a development key.
    public static func jwks(_ key: SigningKey) -> String {
        guard let set = try? JSONWebKeySet(keys: [key.verificationKey]) else { return "{\"keys\":[]}" }
        return set.jsonString
    }

    private static func sign(_ payload: [String: JSONValue], key: SigningKey) throws(KeyError) -> String {
        try JWSSigner.sign(
            header: ["alg": .string(key.algorithm.rawValue), "kid": .string(key.id), "typ": .string("JWT")],
            payload: .object(payload),
            with: key.privateKey
        )
    }
}
