public import Foundation
public import WritAPI
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
    /// Whether the token endpoint makes the task for one token: it lasts as long as that token.
    public var implicit = false

    /// The most authorization details one task may ask for.
    public static let maximumDetails = 64
    /// The shortest heartbeat interval accepted.
    public static let minimumHeartbeat: TimeInterval = 5

    /// Reads a descriptor from a JSON body (strictly, as ``WritAPI/TaskRequest``).
    public init(json: JSONValue) throws(BrokerError) {
        do {
            self = try TaskDescriptor(try TaskRequest(json: json, mode: .request))
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.invalidRequest, String(describing: error))
        }
    }

    /// An implicit task's descriptor: made by the token endpoint for one token, asking for `details` for at most
    /// `lifetime` seconds.
    public init(
        implicitType type: String,
        purpose: String?,
        authorizationDetails details: [AuthorizationDetail],
        lifetime: TimeInterval,
        userAssertion: String?,
        bearer: Bool
    ) {
        self.type = type
        self.purpose = purpose
        self.authorizationDetails = details
        self.maximumDuration = lifetime
        self.userAssertion = userAssertion
        self.bearer = bearer
        self.implicit = true
    }

    /// A descriptor from the request's wire type, with the limits the wire leaves to the broker.
    public init(_ request: TaskRequest) throws(BrokerError) {
        func text(_ value: String?, _ name: String, maximum: Int) throws(BrokerError) -> String? {
            guard let value else { return nil }
            guard !value.isEmpty, value.utf8.count <= maximum else {
                throw BrokerError(.invalidRequest, "\(name) must be a non-empty string of at most \(maximum) bytes")
            }
            return value
        }
        func seconds(_ value: Int64?, _ name: String) throws(BrokerError) -> TimeInterval? {
            guard let value else { return nil }
            guard value > 0, value <= 86_400 * 7 else {
                throw BrokerError(.invalidRequest, "\(name) must be a whole number of seconds, 1 to 604800")
            }
            return TimeInterval(value)
        }
        self.type = try text(request.type, "type", maximum: 128) ?? ""
        self.purpose = try text(request.purpose, "purpose", maximum: 1024)
        guard !request.authorizationDetails.isEmpty else {
            throw BrokerError(.invalidRequest, "authorization_details must be a non-empty array")
        }
        guard request.authorizationDetails.count <= Self.maximumDetails else {
            throw BrokerError(.invalidRequest, "at most \(Self.maximumDetails) authorization_details entries")
        }
        self.authorizationDetails = request.authorizationDetails
        self.maximumDuration = try seconds(request.maxDuration, "max_duration")
        self.parent = try text(request.parent, "parent", maximum: 128)
        self.delegate = try Self.delegate(request.delegateTo, parent: parent)
        self.userAssertion = try text(request.userAssertion, "user_assertion", maximum: AssertionVerifier.maximumLength)
        self.bearer = request.bearer ?? false
        self.heartbeatInterval = try seconds(request.heartbeatInterval, "heartbeat_interval")
        if let heartbeatInterval, heartbeatInterval < Self.minimumHeartbeat {
            throw BrokerError(
                .invalidRequest,
                "heartbeat_interval must be at least \(Int(Self.minimumHeartbeat)) seconds"
            )
        }
    }

    /// The workload a sub-task is delegated to, which needs a parent task.
    private static func delegate(_ text: String?, parent: String?) throws(BrokerError) -> SPIFFEID? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= SPIFFEID.maximumLength else {
            throw BrokerError(.invalidRequest, "delegate_to must be a SPIFFE ID")
        }
        let delegate: SPIFFEID
        do {
            delegate = try SPIFFEID(text)
        } catch {
            throw BrokerError(.invalidRequest, "delegate_to: \(error.reason)")
        }
        guard parent != nil else { throw BrokerError(.invalidRequest, "delegate_to needs a parent task") }
        return delegate
    }
}
