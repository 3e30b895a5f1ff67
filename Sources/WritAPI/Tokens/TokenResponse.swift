public import WritToken

/// What `POST /v1/token` answers (RFC 8693 §2.2.1), with the grant the token carries.
public struct TokenResponse: WireMessage, CustomStringConvertible {
    /// How the token must be presented.
    public enum TokenType: String, Sendable, Hashable, CaseIterable {
        /// Bound to a DPoP key (RFC 9449): sent as `Authorization: DPoP …` with a proof.
        case dpop = "DPoP"
        /// Bound to the client's certificate, or unbound: sent as `Authorization: Bearer …`.
        case bearer = "Bearer"
    }

    /// The signed token. Never printed.
    public var accessToken: String
    /// ``TokenEndpointForm/accessTokenType``.
    public var issuedTokenType: String
    /// How to present it.
    public var tokenType: TokenType
    /// Seconds until it expires.
    public var expiresIn: Int64
    /// What it allows (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]
    /// The scope values it carries, when it was asked for by scope (RFC 6749 §5.1).
    public var scope: String?

    /// A token answer.
    public init(
        accessToken: String,
        issuedTokenType: String = TokenEndpointForm.accessTokenType,
        tokenType: TokenType,
        expiresIn: Int64,
        authorizationDetails: [AuthorizationDetail],
        scope: String? = nil
    ) {
        self.accessToken = accessToken
        self.issuedTokenType = issuedTokenType
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.authorizationDetails = authorizationDetails
        self.scope = scope
    }

    /// Reads a token answer.
    public init(from object: WireObject) throws(WireError) {
        accessToken = try object.string("access_token")
        issuedTokenType = try object.string("issued_token_type")
        tokenType = try object.enumeration("token_type")
        expiresIn = try object.integer("expires_in")
        authorizationDetails = try object.array("authorization_details")
        scope = try object.optionalString("scope")
    }

    /// The answer as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["access_token"] = .string(accessToken)
        members["issued_token_type"] = .string(issuedTokenType)
        members["token_type"] = .string(tokenType.rawValue)
        members["expires_in"] = .integer(expiresIn)
        members["authorization_details"] = .values(authorizationDetails)
        members["scope"] = scope.json
        return members.json
    }

    /// The answer without the token.
    public var description: String {
        "TokenResponse(type: \(tokenType.rawValue), expires in: \(expiresIn), token redacted)"
    }
}
