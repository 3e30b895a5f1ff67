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
    /// ``TokenExchangeRequest/accessTokenType``.
    public var issuedTokenType: String
    /// How to present it.
    public var tokenType: TokenType
    /// Seconds until it expires.
    public var expiresIn: Int64
    /// What it allows (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]

    /// A token answer.
    public init(
        accessToken: String,
        issuedTokenType: String = TokenExchangeRequest.accessTokenType,
        tokenType: TokenType,
        expiresIn: Int64,
        authorizationDetails: [AuthorizationDetail]
    ) {
        self.accessToken = accessToken
        self.issuedTokenType = issuedTokenType
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.authorizationDetails = authorizationDetails
    }

    /// Reads a token answer.
    public init(from object: WireObject) throws(WireError) {
        accessToken = try object.string("access_token")
        issuedTokenType = try object.string("issued_token_type")
        tokenType = try object.enumeration("token_type")
        expiresIn = try object.integer("expires_in")
        authorizationDetails = try object.array("authorization_details")
    }

    /// The answer as JSON.
    public var json: JSONValue {
        .object([
            "access_token": .string(accessToken),
            "issued_token_type": .string(issuedTokenType),
            "token_type": .string(tokenType.rawValue),
            "expires_in": .integer(expiresIn),
            "authorization_details": .values(authorizationDetails),
        ])
    }

    /// The answer without the token.
    public var description: String {
        "TokenResponse(type: \(tokenType.rawValue), expires in: \(expiresIn), token redacted)"
    }
}
