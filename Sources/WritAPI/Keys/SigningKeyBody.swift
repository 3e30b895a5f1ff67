public import WritToken

/// A signing key as operators see it (never its private part).
public struct SigningKeyBody: WireMessage {
    /// Where a key is in its life.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Signs new tokens.
        case active
        /// Published, signs from `activates_at`.
        case pending
        /// Published until `retires_at`, when its last token has expired.
        case retiring
        /// No longer published.
        case retired
    }

    /// The key id.
    public var kid: String
    /// Its algorithm (`ES256`, `EdDSA`).
    public var alg: String
    /// Where it is in its life.
    public var state: State
    /// When it was made, in seconds since the epoch.
    public var createdAt: Int64
    /// When it signs from.
    public var activatesAt: Int64?
    /// When it leaves the key set.
    public var retiresAt: Int64?
    /// When it left the key set.
    public var retiredAt: Int64?

    /// A key.
    public init(
        kid: String,
        alg: String,
        state: State,
        createdAt: Int64,
        activatesAt: Int64? = nil,
        retiresAt: Int64? = nil,
        retiredAt: Int64? = nil
    ) {
        self.kid = kid
        self.alg = alg
        self.state = state
        self.createdAt = createdAt
        self.activatesAt = activatesAt
        self.retiresAt = retiresAt
        self.retiredAt = retiredAt
    }

    /// Reads a key.
    public init(from object: WireObject) throws(WireError) {
        kid = try object.string("kid")
        alg = try object.string("alg")
        state = try object.enumeration("state")
        createdAt = try object.integer("created_at")
        activatesAt = try object.optionalInteger("activates_at")
        retiresAt = try object.optionalInteger("retires_at")
        retiredAt = try object.optionalInteger("retired_at")
    }

    /// The key as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["kid"] = .string(kid)
        members["alg"] = .string(alg)
        members["state"] = .string(state.rawValue)
        members["created_at"] = .integer(createdAt)
        members["activates_at"] = activatesAt.json
        members["retires_at"] = retiresAt.json
        members["retired_at"] = retiredAt.json
        return members.json
    }
}
