import Foundation
import WritAPI
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

    /// The body of `POST /v1/tasks` for this descriptor, as a sub-task of `parent` for `delegate` when given.
    func request(parent: String? = nil, delegate: SPIFFEID? = nil) -> TaskRequest {
        TaskRequest(
            type: type,
            purpose: purpose,
            authorizationDetails: authorizationDetails,
            maxDuration: maximumDuration?.components.seconds,
            parent: parent,
            delegateTo: delegate?.description,
            userAssertion: userAssertion,
            heartbeatInterval: heartbeatInterval?.components.seconds
        )
    }
}
