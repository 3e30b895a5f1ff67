public import WritToken

/// The query of `POST /v1/admin/keys/rotate`.
public struct KeyRotationQuery: WireParameters {
    /// A compromised key: the new key signs at once and every other key leaves the key set at once.
    public var immediately: Bool?

    /// A rotation.
    public init(immediately: Bool? = nil) { self.immediately = immediately }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        immediately = try WireParameter.flag(parameters, "immediately")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] { immediately.map { [("immediately", String($0))] } ?? [] }
}

/// What `POST /v1/admin/keys/rotate` answers: the new key and when the previous one leaves.
public struct KeyRotationResponse: WireMessage {
    /// The new key's id.
    public var kid: String
    /// When it signs from, in seconds since the epoch.
    public var activatesAt: Int64
    /// The key signing until then.
    public var previousKid: String
    /// When the previous key leaves the key set.
    public var previousRetiresAt: Int64

    /// A rotation's answer.
    public init(kid: String, activatesAt: Int64, previousKid: String, previousRetiresAt: Int64) {
        self.kid = kid
        self.activatesAt = activatesAt
        self.previousKid = previousKid
        self.previousRetiresAt = previousRetiresAt
    }

    /// Reads a rotation's answer.
    public init(from object: WireObject) throws(WireError) {
        kid = try object.string("kid")
        activatesAt = try object.integer("activates_at")
        previousKid = try object.string("previous_kid")
        previousRetiresAt = try object.integer("previous_retires_at")
    }

    /// The answer as JSON.
    public var json: JSONValue {
        .object([
            "kid": .string(kid), "activates_at": .integer(activatesAt), "previous_kid": .string(previousKid),
            "previous_retires_at": .integer(previousRetiresAt),
        ])
    }
}
