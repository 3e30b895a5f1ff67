public import Foundation
public import WritToken

/// What an agent is about to do: the task it asks the broker for.
public struct AgentTaskDescriptor: Sendable, Hashable {
    /// The task type the broker's policy matches on.
    public var type: String
    /// Why (`purp` in the tokens).
    public var purpose: String?
    /// Exactly the resources and actions the work needs (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]
    /// The longest the task may run; the policy's ceiling applies.
    public var maximumDuration: Duration?
    /// An ID token naming the user the work is for.
    public var userAssertion: String?
    /// How often to send heartbeats; the broker expires a task that misses two. Nil: no heartbeats.
    public var heartbeatInterval: Duration?

    /// A descriptor.
    public init(
        type: String,
        purpose: String? = nil,
        authorizationDetails: [AuthorizationDetail],
        maximumDuration: Duration? = nil,
        userAssertion: String? = nil,
        heartbeatInterval: Duration? = nil
    ) {
        self.type = type
        self.purpose = purpose
        self.authorizationDetails = authorizationDetails
        self.maximumDuration = maximumDuration
        self.userAssertion = userAssertion
        self.heartbeatInterval = heartbeatInterval
    }

    func json(parent: String? = nil, delegate: SPIFFEID? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "type": .string(type), "authorization_details": .array(authorizationDetails.map(\.json)),
        ]
        if let purpose { members["purpose"] = .string(purpose) }
        if let maximumDuration { members["max_duration"] = .integer(maximumDuration.components.seconds) }
        if let userAssertion { members["user_assertion"] = .string(userAssertion) }
        if let heartbeatInterval { members["heartbeat_interval"] = .integer(heartbeatInterval.components.seconds) }
        if let parent { members["parent"] = .string(parent) }
        if let delegate { members["delegate_to"] = .string(delegate.description) }
        return .object(members)
    }
}
