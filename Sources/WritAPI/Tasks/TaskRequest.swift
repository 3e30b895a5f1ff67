public import WritToken

/// The body of `POST /v1/tasks`: what a workload is about to do. Read strictly: a member the broker does
/// not know is refused by name, so a typo is never silently ignored. Limits (lengths, ranges) are the
/// broker's to check; this is the body's shape.
public struct TaskRequest: WireMessage, CustomStringConvertible {
    /// The task type the policy matches on.
    public var type: String
    /// Why (`purp` in the tokens).
    public var purpose: String?
    /// The resources and actions needed (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]
    /// The longest the task may run, in seconds; the policy's ceiling applies.
    public var maxDuration: Int64?
    /// The parent task, for a sub-task.
    public var parent: String?
    /// The SPIFFE ID of the workload that will act in a sub-task, when it is not the caller.
    public var delegateTo: String?
    /// An ID token naming the user the task is for. Never printed.
    public var userAssertion: String?
    /// Whether the task wants tokens without a sender constraint (absent: no).
    public var bearer: Bool?
    /// Seconds between the heartbeats the workload promises.
    public var heartbeatInterval: Int64?

    /// A task request.
    public init(
        type: String,
        purpose: String? = nil,
        authorizationDetails: [AuthorizationDetail],
        maxDuration: Int64? = nil,
        parent: String? = nil,
        delegateTo: String? = nil,
        userAssertion: String? = nil,
        bearer: Bool? = nil,
        heartbeatInterval: Int64? = nil
    ) {
        self.type = type
        self.purpose = purpose
        self.authorizationDetails = authorizationDetails
        self.maxDuration = maxDuration
        self.parent = parent
        self.delegateTo = delegateTo
        self.userAssertion = userAssertion
        self.bearer = bearer
        self.heartbeatInterval = heartbeatInterval
    }

    /// Reads a task request.
    public init(from object: WireObject) throws(WireError) {
        type = try object.string("type")
        purpose = try object.optionalString("purpose")
        authorizationDetails = try object.array("authorization_details")
        maxDuration = try object.optionalInteger("max_duration")
        parent = try object.optionalString("parent")
        delegateTo = try object.optionalString("delegate_to")
        userAssertion = try object.optionalString("user_assertion")
        bearer = try object.optionalBool("bearer")
        heartbeatInterval = try object.optionalInteger("heartbeat_interval")
    }

    /// The request as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["type"] = .string(type)
        members["purpose"] = purpose.json
        members["authorization_details"] = .values(authorizationDetails)
        members["max_duration"] = maxDuration.json
        members["parent"] = parent.json
        members["delegate_to"] = delegateTo.json
        members["user_assertion"] = userAssertion.json
        members["bearer"] = bearer.json
        members["heartbeat_interval"] = heartbeatInterval.json
        return members.json
    }

    /// The request without the user's assertion.
    public var description: String {
        "TaskRequest(type: \(type), details: \(authorizationDetails.count), parent: \(parent ?? "-"), "
            + "user assertion: \(userAssertion == nil ? "none" : "redacted"))"
    }
}
