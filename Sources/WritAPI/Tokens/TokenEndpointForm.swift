/// The form of `POST /v1/token`, for every grant the endpoint serves:
/// - RFC 8693 token exchange: the workload proves itself with `actor_token` (or, without a user, the same
///   assertion as a `jwt` `subject_token`, or its X.509-SVID over mutual TLS); a user assertion is an
///   `id_token` `subject_token`;
/// - `client_credentials` with RFC 7523 client authentication: the workload's identity JWT as
///   `client_assertion`;
/// - RFC 7523's `jwt-bearer` grant: the workload's identity JWT as `assertion`.
///
/// With `task_id` the token is for that task; without it, for an implicit task made for this one token from
/// `resource` and `authorization_details` (RFC 9396) or `scope`. Which combinations are accepted is the
/// broker's to say.
public struct TokenEndpointForm: WireParameters, CustomStringConvertible {
    /// RFC 8693's grant type.
    public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// RFC 6749 §4.4's grant type.
    public static let clientCredentialsGrantType = "client_credentials"
    /// RFC 7523 §2.1's grant type.
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// RFC 7523 §2.2's client assertion type.
    public static let jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// The token type of workload assertions.
    public static let jwtType = "urn:ietf:params:oauth:token-type:jwt"
    /// The token type of user assertions.
    public static let idTokenType = "urn:ietf:params:oauth:token-type:id_token"
    /// The token type issued.
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    /// The grant type.
    public var grantType: String
    /// The task; absent for an implicit task.
    public var taskID: String?
    /// The resource server the token is for.
    public var audience: String?
    /// The same as `audience` (RFC 8707); when both are sent they must agree.
    public var resource: String?
    /// The workload's assertion (token exchange). Never printed.
    public var actorToken: String?
    /// ``jwtType`` with an actor token.
    public var actorTokenType: String?
    /// A user assertion, or the workload's own (token exchange). Never printed.
    public var subjectToken: String?
    /// ``idTokenType`` or ``jwtType``.
    public var subjectTokenType: String?
    /// ``accessTokenType`` when sent.
    public var requestedTokenType: String?
    /// The workload's assertion (`jwt-bearer` grant). Never printed.
    public var assertion: String?
    /// The client, when sent: the workload's SPIFFE ID.
    public var clientID: String?
    /// ``jwtBearerAssertionType`` with a client assertion.
    public var clientAssertionType: String?
    /// The workload's assertion as client authentication (RFC 7523 §2.2). Never printed.
    public var clientAssertion: String?
    /// Space-separated scope values, which the policy files map to authorization details per audience.
    public var scope: String?
    /// RFC 9396 authorization details as JSON text: a subset of the task's grant, or an implicit task's
    /// request.
    public var authorizationDetails: String?
    /// An implicit task's type, when the policy's default for the audience is not wanted.
    public var taskType: String?
    /// An implicit task's purpose.
    public var purpose: String?

    /// A token request for a task and audience; add the assertions to send.
    public init(taskID: String?, audience: String, grantType: String = TokenEndpointForm.grantType) {
        self.grantType = grantType
        self.taskID = taskID
        self.audience = audience
    }

    /// Reads the form.
    public init(parameters: [String: String]) throws(WireError) {
        grantType = try WireParameter.required(parameters, "grant_type")
        taskID = parameters["task_id"]
        audience = parameters["audience"]
        resource = parameters["resource"]
        actorToken = parameters["actor_token"]
        actorTokenType = parameters["actor_token_type"]
        subjectToken = parameters["subject_token"]
        subjectTokenType = parameters["subject_token_type"]
        requestedTokenType = parameters["requested_token_type"]
        assertion = parameters["assertion"]
        clientID = parameters["client_id"]
        clientAssertionType = parameters["client_assertion_type"]
        clientAssertion = parameters["client_assertion"]
        scope = parameters["scope"]
        authorizationDetails = parameters["authorization_details"]
        taskType = parameters["task_type"]
        purpose = parameters["purpose"]
    }

    /// The form's parameters.
    public var parameters: [(String, String)] {
        let all: [(String, String?)] = [
            ("grant_type", grantType), ("task_id", taskID), ("audience", audience), ("resource", resource),
            ("actor_token", actorToken), ("actor_token_type", actorTokenType), ("subject_token", subjectToken),
            ("subject_token_type", subjectTokenType), ("requested_token_type", requestedTokenType),
            ("assertion", assertion), ("client_id", clientID), ("client_assertion_type", clientAssertionType),
            ("client_assertion", clientAssertion), ("scope", scope), ("authorization_details", authorizationDetails),
            ("task_type", taskType), ("purpose", purpose),
        ]
        return all.compactMap { name, value in value.map { (name, $0) } }
    }

    /// The request without its assertions.
    public var description: String {
        "TokenEndpointForm(grant: \(grantType), task: \(taskID ?? "implicit"), "
            + "audience: \(audience ?? resource ?? "-"), assertions redacted)"
    }
}
