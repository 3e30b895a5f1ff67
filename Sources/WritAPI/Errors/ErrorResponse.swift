public import WritToken

/// The body of every refusal: `error` and `error_description` as RFC 6749 §5.2 has them, and for a policy
/// denial (`access_denied`) the policy's reasons.
public struct ErrorResponse: WireMessage {
    /// The stable code (`invalid_request`, `access_denied`, `task_closed`, …); clients branch on it.
    public var error: String
    /// What went wrong and what to do.
    public var errorDescription: String
    /// The policy's reasons, for `access_denied`.
    public var reasons: [DenialReasonBody]?

    /// A refusal.
    public init(error: String, errorDescription: String, reasons: [DenialReasonBody]? = nil) {
        self.error = error
        self.errorDescription = errorDescription
        self.reasons = reasons
    }

    /// Reads a refusal.
    public init(from object: WireObject) throws(WireError) {
        error = try object.string("error")
        errorDescription = try object.string("error_description")
        reasons = try object.optionalArray("reasons")
    }

    /// The refusal as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["error"] = .string(error)
        members["error_description"] = .string(errorDescription)
        members["reasons"] = reasons.map(JSONValue.values)
        return members.json
    }
}
