/// RFC 7523 §2.2 client authentication in a form: the caller's workload JWT, as OAuth libraries send it to the
/// introspection and revocation endpoints (instead of `Authorization: Bearer`).
public struct FormClientAssertion: Sendable, Hashable, CustomStringConvertible {
    /// The one assertion type taken.
    public static let type = TokenEndpointForm.jwtBearerAssertionType
    /// The workload's identity JWT. Never printed.
    public var assertion: String
    /// The client, when sent: the workload's SPIFFE ID.
    public var clientID: String?

    /// An assertion.
    public init(assertion: String, clientID: String? = nil) {
        self.assertion = assertion
        self.clientID = clientID
    }

    /// The form's assertion, nil when it has none; a type other than ``type``, or one member without the
    /// other, is refused.
    public static func read(_ parameters: [String: String]) throws(WireError) -> FormClientAssertion? {
        switch (parameters["client_assertion_type"], parameters["client_assertion"]) {
        case (nil, nil):
            // A client_id alone (RFC 8705 clients send one over mutual TLS) is no credential; it is ignored.
            return nil
        case (type?, let assertion?) where !assertion.isEmpty:
            return FormClientAssertion(assertion: assertion, clientID: parameters["client_id"])
        case (let sent?, _) where sent != type:
            throw .invalidValue(at: "client_assertion_type", "must be \(type)")
        default:
            throw .invalidValue(at: "client_assertion", "send client_assertion_type and client_assertion together")
        }
    }

    var parameters: [(String, String)] {
        [("client_assertion_type", Self.type), ("client_assertion", assertion)]
            + (clientID.map { [("client_id", $0)] } ?? [])
    }

    /// The assertion without its text.
    public var description: String { "FormClientAssertion(client: \(clientID ?? "-"), assertion redacted)" }
}

/// The form of `POST /v1/introspect` (RFC 7662): the token to look at.
public struct IntrospectionRequest: WireParameters, CustomStringConvertible {
    /// The token. Never printed.
    public var token: String
    /// A hint at the token's type; ignored: only access tokens exist here.
    public var tokenTypeHint: String?
    /// The caller's client assertion, when it authenticates in the form.
    public var clientAssertion: FormClientAssertion?

    /// A request about a token.
    public init(token: String, tokenTypeHint: String? = nil, clientAssertion: FormClientAssertion? = nil) {
        self.token = token
        self.tokenTypeHint = tokenTypeHint
        self.clientAssertion = clientAssertion
    }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        token = try WireParameter.required(parameters, "token")
        tokenTypeHint = parameters["token_type_hint"]
        clientAssertion = try FormClientAssertion.read(parameters)
    }

    /// The form's parameters.
    public var parameters: [(String, String)] {
        [("token", token)] + (tokenTypeHint.map { [("token_type_hint", $0)] } ?? [])
            + (clientAssertion?.parameters ?? [])
    }

    /// The request without its token.
    public var description: String { "IntrospectionRequest(token redacted)" }
}

/// The form of `POST /v1/revoke` (RFC 7009): a token its holder is done with.
public struct TokenRevocationRequest: WireParameters, CustomStringConvertible {
    /// The token. Never printed.
    public var token: String
    /// A hint at the token's type; ignored, as RFC 7009 §2.1 allows: only access tokens exist here.
    public var tokenTypeHint: String?
    /// The caller's client assertion, when it authenticates in the form.
    public var clientAssertion: FormClientAssertion?

    /// A revocation of one's own token.
    public init(token: String, tokenTypeHint: String? = nil, clientAssertion: FormClientAssertion? = nil) {
        self.token = token
        self.tokenTypeHint = tokenTypeHint
        self.clientAssertion = clientAssertion
    }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        token = try WireParameter.required(parameters, "token")
        tokenTypeHint = parameters["token_type_hint"]
        clientAssertion = try FormClientAssertion.read(parameters)
    }

    /// The form's parameters.
    public var parameters: [(String, String)] {
        [("token", token)] + (tokenTypeHint.map { [("token_type_hint", $0)] } ?? [])
            + (clientAssertion?.parameters ?? [])
    }

    /// The request without its token.
    public var description: String { "TokenRevocationRequest(token redacted)" }
}
