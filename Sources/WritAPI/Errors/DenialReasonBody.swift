public import WritToken

/// One reason of a policy denial: a stable code, the authorization detail and action at fault, the rules
/// involved.
public struct DenialReasonBody: WireMessage {
    /// A stable code (`no_matching_permit`, `not_covered`, `forbidden`, …). A string, not a closed set: a
    /// client shows a code it does not know rather than failing on it.
    public var code: String
    /// What was wrong.
    public var message: String
    /// The policy rules involved (empty when none).
    public var rules: [String]
    /// The authorization detail at fault, by index.
    public var entry: Int64?
    /// The action at fault.
    public var action: String?

    /// A reason.
    public init(code: String, message: String, rules: [String] = [], entry: Int64? = nil, action: String? = nil) {
        self.code = code
        self.message = message
        self.rules = rules
        self.entry = entry
        self.action = action
    }

    /// Reads a reason.
    public init(from object: WireObject) throws(WireError) {
        code = try object.string("code")
        message = try object.string("message")
        rules = try object.strings("rules")
        entry = try object.optionalInteger("entry")
        action = try object.optionalString("action")
    }

    /// The reason as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["code"] = .string(code)
        members["message"] = .string(message)
        members["rules"] = .strings(rules)
        members["entry"] = entry.json
        members["action"] = action.json
        return members.json
    }
}
