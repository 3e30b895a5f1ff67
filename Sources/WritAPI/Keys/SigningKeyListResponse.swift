public import WritToken

/// `GET /v1/admin/keys`: every signing key on record, the one signing, and how long a new key is published
/// before it signs.
public struct SigningKeyListResponse: WireMessage {
    /// The keys.
    public var keys: [SigningKeyBody]
    /// The id of the key signing now.
    public var active: String
    /// Seconds a new key is published before it signs.
    public var publishLead: Int64

    /// A key list.
    public init(keys: [SigningKeyBody], active: String, publishLead: Int64) {
        self.keys = keys
        self.active = active
        self.publishLead = publishLead
    }

    /// Reads a key list.
    public init(from object: WireObject) throws(WireError) {
        keys = try object.array("keys")
        active = try object.string("active")
        publishLead = try object.integer("publish_lead")
    }

    /// The list as JSON.
    public var json: JSONValue {
        .object(["keys": .values(keys), "active": .string(active), "publish_lead": .integer(publishLead)])
    }
}
