public import WritToken

/// What the policy granted a task: the authorization details, the task's and its tokens' longest lives,
/// how deep it may delegate, and whether bearer tokens are allowed.
public struct GrantBody: WireMessage {
    /// The resources and actions granted (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]
    /// The longest the task may run, in seconds.
    public var taskDuration: Int64
    /// The longest a token may live, in seconds.
    public var tokenLifetime: Int64
    /// How many levels of sub-tasks may be delegated below it.
    public var delegationDepth: Int64
    /// Whether tokens without a sender constraint may be issued.
    public var bearerTokens: Bool

    /// A grant.
    public init(
        authorizationDetails: [AuthorizationDetail],
        taskDuration: Int64,
        tokenLifetime: Int64,
        delegationDepth: Int64,
        bearerTokens: Bool
    ) {
        self.authorizationDetails = authorizationDetails
        self.taskDuration = taskDuration
        self.tokenLifetime = tokenLifetime
        self.delegationDepth = delegationDepth
        self.bearerTokens = bearerTokens
    }

    /// Reads a grant.
    public init(from object: WireObject) throws(WireError) {
        authorizationDetails = try object.array("authorization_details")
        taskDuration = try object.integer("task_duration")
        tokenLifetime = try object.integer("token_lifetime")
        delegationDepth = try object.integer("delegation_depth")
        bearerTokens = try object.bool("bearer_tokens")
    }

    /// The grant as JSON.
    public var json: JSONValue {
        .object([
            "authorization_details": .values(authorizationDetails),
            "task_duration": .integer(taskDuration),
            "token_lifetime": .integer(tokenLifetime),
            "delegation_depth": .integer(delegationDepth),
            "bearer_tokens": .bool(bearerTokens),
        ])
    }
}
