public import WritToken

/// What `POST /v1/introspect` answers (RFC 7662 §2.2): `{"active": false}`, or for a live token its claims
/// with `active` and `token_type`.
public struct IntrospectionResponse: WireMessage {
    /// Whether the token is live: signed by the broker, unexpired, unrevoked, and the caller may see it.
    public var active: Bool
    /// How a live token is presented: `DPoP`, or `Bearer` (bound to a certificate, or unbound), as in the token
    /// answer.
    public var tokenType: TokenResponse.TokenType?
    /// The token's claims, for a live token.
    public var claims: AccessTokenClaims?

    /// The answer for a token that is not live.
    public static let inactive = IntrospectionResponse(active: false)

    /// An answer.
    public init(active: Bool, tokenType: TokenResponse.TokenType? = nil, claims: AccessTokenClaims? = nil) {
        self.active = active
        self.tokenType = tokenType
        self.claims = claims
    }

    /// Reads an answer; the members besides `active` and `token_type` are the token's claims.
    public init(from object: WireObject) throws(WireError) {
        active = try object.bool("active")
        tokenType = try object.optionalEnumeration("token_type")
        let rest = object.remaining()
        claims = rest.isEmpty ? nil : try AccessTokenClaims(json: .object(rest), at: object.path, mode: object.mode)
    }

    /// The answer as JSON.
    public var json: JSONValue {
        var members = claims?.json.objectValue ?? [:]
        members["active"] = .bool(active)
        if let tokenType { members["token_type"] = .string(tokenType.rawValue) }
        return .object(members)
    }
}
