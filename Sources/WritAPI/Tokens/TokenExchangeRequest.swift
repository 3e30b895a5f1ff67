/// The form of `POST /v1/token`: an RFC 8693 token exchange. The workload proves itself with `actor_token`
/// (or, without a user, the same assertion as a `jwt` `subject_token`, or its X.509-SVID over mutual TLS); a
/// user assertion is an `id_token` `subject_token`. Which combinations are accepted is the broker's to say.
public struct TokenExchangeRequest: WireParameters, CustomStringConvertible {
    /// RFC 8693's grant type.
    public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// The token type of workload assertions.
    public static let jwtType = "urn:ietf:params:oauth:token-type:jwt"
    /// The token type of user assertions.
    public static let idTokenType = "urn:ietf:params:oauth:token-type:id_token"
    /// The token type issued.
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    /// The grant type; only ``grantType`` is served.
    public var grantType: String
    /// The task.
    public var taskID: String
    /// The resource server the token is for.
    public var audience: String?
    /// The same as `audience` (RFC 8707); when both are sent they must agree.
    public var resource: String?
    /// The workload's assertion. Never printed.
    public var actorToken: String?
    /// ``jwtType`` with an actor token.
    public var actorTokenType: String?
    /// A user assertion, or the workload's own. Never printed.
    public var subjectToken: String?
    /// ``idTokenType`` or ``jwtType``.
    public var subjectTokenType: String?
    /// ``accessTokenType`` when sent.
    public var requestedTokenType: String?
    /// Refused by the broker (a token's scope is its task's grant); carried so it can say so.
    public var scope: String?

    /// A token request for a task and audience; add the assertions to send.
    public init(taskID: String, audience: String, grantType: String = TokenExchangeRequest.grantType) {
        self.grantType = grantType
        self.taskID = taskID
        self.audience = audience
    }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        grantType = try WireParameter.required(parameters, "grant_type")
        taskID = try WireParameter.required(parameters, "task_id")
        audience = parameters["audience"]
        resource = parameters["resource"]
        actorToken = parameters["actor_token"]
        actorTokenType = parameters["actor_token_type"]
        subjectToken = parameters["subject_token"]
        subjectTokenType = parameters["subject_token_type"]
        requestedTokenType = parameters["requested_token_type"]
        scope = parameters["scope"]
    }

    /// The form's parameters.
    public var parameters: [(String, String)] {
        let all: [(String, String?)] = [
            ("grant_type", grantType), ("task_id", taskID), ("audience", audience), ("resource", resource),
            ("actor_token", actorToken), ("actor_token_type", actorTokenType), ("subject_token", subjectToken),
            ("subject_token_type", subjectTokenType), ("requested_token_type", requestedTokenType), ("scope", scope),
        ]
        return all.compactMap { name, value in value.map { (name, $0) } }
    }

    /// The request without its assertions.
    public var description: String {
        "TokenExchangeRequest(task: \(taskID), audience: \(audience ?? resource ?? "-"), assertions redacted)"
    }
}
