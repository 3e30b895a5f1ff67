/// The form of `POST /v1/introspect` (RFC 7662): the token to look at.
public struct IntrospectionRequest: WireParameters, CustomStringConvertible {
    /// The token. Never printed.
    public var token: String

    /// A request about a token.
    public init(token: String) { self.token = token }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        token = try WireParameter.required(parameters, "token")
    }

    /// The form's parameters.
    public var parameters: [(String, String)] { [("token", token)] }

    /// The request without its token.
    public var description: String { "IntrospectionRequest(token redacted)" }
}

/// The form of `POST /v1/revoke` (RFC 7009): a token its holder is done with.
public struct TokenRevocationRequest: WireParameters, CustomStringConvertible {
    /// The token. Never printed.
    public var token: String
    /// A hint at the token's type; ignored, as RFC 7009 §2.1 allows: only access tokens exist here.
    public var tokenTypeHint: String?

    /// A revocation of one's own token.
    public init(token: String, tokenTypeHint: String? = nil) {
        self.token = token
        self.tokenTypeHint = tokenTypeHint
    }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        token = try WireParameter.required(parameters, "token")
        tokenTypeHint = parameters["token_type_hint"]
    }

    /// The form's parameters.
    public var parameters: [(String, String)] {
        [("token", token)] + (tokenTypeHint.map { [("token_type_hint", $0)] } ?? [])
    }

    /// The request without its token.
    public var description: String { "TokenRevocationRequest(token redacted)" }
}
