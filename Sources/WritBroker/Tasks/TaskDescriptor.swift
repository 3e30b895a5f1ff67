public import Foundation
public import WritToken

/// What a workload asks for when it begins a task: the body of `POST /v1/tasks`.
public struct TaskDescriptor: Sendable, Hashable {
    /// The task type the policy matches on.
    public var type: String
    /// The stated purpose (`purp`).
    public var purpose: String?
    /// The resources and actions needed (RFC 9396).
    public var authorizationDetails: [AuthorizationDetail]
    /// The longest the task may run, in seconds; the policy's ceiling applies.
    public var maximumDuration: TimeInterval?
    /// The parent task, for a sub-task.
    public var parent: String?
    /// The workload that will act in a sub-task, when it is not the caller.
    public var delegate: SPIFFEID?
    /// An ID token naming the user the task is for.
    public var userAssertion: String?
    /// Whether the task wants tokens without a sender constraint.
    public var bearer: Bool
    /// Seconds between the heartbeats the workload promises; a task that misses two expires.
    public var heartbeatInterval: TimeInterval?

    /// The members a descriptor may have; anything else is refused, so a typo is not silently ignored.
    public static let members: Set<String> = [
        "type", "purpose", "authorization_details", "max_duration", "parent", "delegate_to", "user_assertion",
        "bearer", "heartbeat_interval",
    ]
    /// The most authorization details one task may ask for.
    public static let maximumDetails = 64
    /// The shortest heartbeat interval accepted.
    public static let minimumHeartbeat: TimeInterval = 5

    /// Reads a descriptor from a JSON body.
    public init(json: JSONValue) throws(BrokerError) {
        guard let members = json.objectValue else {
            throw BrokerError(.invalidRequest, "the body must be a JSON object")
        }
        if let unknown = members.keys.sorted().first(where: { !Self.members.contains($0) }) {
            throw BrokerError(.invalidRequest, "unknown member \(unknown.prefix(64)) in the task descriptor")
        }
        func text(_ name: String, maximum: Int) throws(BrokerError) -> String? {
            guard let value = members[name] else { return nil }
            guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= maximum else {
                throw BrokerError(.invalidRequest, "\(name) must be a non-empty string of at most \(maximum) bytes")
            }
            return text
        }
        func seconds(_ name: String) throws(BrokerError) -> TimeInterval? {
            guard let value = members[name] else { return nil }
            guard let number = value.integerValue, number > 0, number <= 86_400 * 7 else {
                throw BrokerError(.invalidRequest, "\(name) must be a whole number of seconds, 1 to 604800")
            }
            return TimeInterval(number)
        }
        guard let type = try text("type", maximum: 128) else { throw BrokerError(.invalidRequest, "type is required") }
        self.type = type
        self.purpose = try text("purpose", maximum: 1024)
        guard let details = members["authorization_details"]?.arrayValue, !details.isEmpty else {
            throw BrokerError(.invalidRequest, "authorization_details must be a non-empty array")
        }
        guard details.count <= Self.maximumDetails else {
            throw BrokerError(.invalidRequest, "at most \(Self.maximumDetails) authorization_details entries")
        }
        var parsed: [AuthorizationDetail] = []
        for (index, detail) in details.enumerated() {
            do {
                parsed.append(try AuthorizationDetail(json: detail))
            } catch {
                throw BrokerError(.invalidRequest, "authorization_details[\(index)]: \(error.reason)")
            }
        }
        self.authorizationDetails = parsed
        self.maximumDuration = try seconds("max_duration")
        self.parent = try text("parent", maximum: 128)
        if let delegate = try text("delegate_to", maximum: SPIFFEID.maximumLength) {
            do {
                self.delegate = try SPIFFEID(delegate)
            } catch {
                throw BrokerError(.invalidRequest, "delegate_to: \(error.reason)")
            }
            guard parent != nil else { throw BrokerError(.invalidRequest, "delegate_to needs a parent task") }
        } else {
            self.delegate = nil
        }
        self.userAssertion = try text("user_assertion", maximum: AssertionVerifier.maximumLength)
        switch members["bearer"] {
        case nil: self.bearer = false
        case .bool(let value): self.bearer = value
        default: throw BrokerError(.invalidRequest, "bearer must be true or false")
        }
        self.heartbeatInterval = try seconds("heartbeat_interval")
        if let heartbeatInterval, heartbeatInterval < Self.minimumHeartbeat {
            throw BrokerError(
                .invalidRequest,
                "heartbeat_interval must be at least \(Int(Self.minimumHeartbeat)) seconds"
            )
        }
    }
}
