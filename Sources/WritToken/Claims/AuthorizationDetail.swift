/// One entry of RFC 9396 `authorization_details`: what may be done, on what, where.
public struct AuthorizationDetail: Sendable, Hashable {
    /// The kind of resource, e.g. `document` (required).
    public var type: String
    /// The actions allowed, e.g. `read`. None means nothing is allowed.
    public var actions: [String]
    /// The resource servers (audiences) where this applies; empty means the token's audience.
    public var locations: [String]
    /// The resource, exactly, or a prefix ending in `/*` for everything below it; nil for the whole type.
    public var identifier: String?
    /// The kinds of data that may be touched; empty means any.
    public var datatypes: [String]
    /// Type-specific members beyond the common ones, kept as received (RFC 9396 §2).
    public var extensions: [String: JSONValue]

    /// The common members of RFC 9396 §2.2, which are never treated as extensions.
    public static let commonMembers: Set<String> = [
        "type", "actions", "locations", "identifier", "datatypes", "privileges",
    ]

    /// Creates an entry.
    public init(
        type: String,
        actions: [String],
        locations: [String] = [],
        identifier: String? = nil,
        datatypes: [String] = [],
        extensions: [String: JSONValue] = [:]
    ) {
        self.type = type
        self.actions = actions
        self.locations = locations
        self.identifier = identifier
        self.datatypes = datatypes
        self.extensions = extensions
    }

    /// The entry as a JSON object; empty lists are left out.
    public var json: JSONValue {
        var members = extensions
        members["type"] = .string(type)
        if !actions.isEmpty { members["actions"] = .array(actions.map(JSONValue.string)) }
        if !locations.isEmpty { members["locations"] = .array(locations.map(JSONValue.string)) }
        if let identifier { members["identifier"] = .string(identifier) }
        if !datatypes.isEmpty { members["datatypes"] = .array(datatypes.map(JSONValue.string)) }
        return .object(members)
    }

    /// Reads an entry; the common members must have their RFC 9396 types.
    public init(json: JSONValue) throws(VerificationError) {
        guard let members = json.objectValue else { throw .malformed("an authorization detail must be an object") }
        func strings(_ name: String, _ value: JSONValue) throws(VerificationError) -> [String] {
            guard let array = value.arrayValue else { throw .malformed("\(name) must be an array of strings") }
            var result: [String] = []
            result.reserveCapacity(array.count)
            for element in array {
                guard let string = element.stringValue else { throw .malformed("\(name) must be an array of strings") }
                result.append(string)
            }
            return result
        }
        // One pass over the members: common ones by name, everything else kept as a type-specific member.
        var type: String?
        var actions: [String] = []
        var locations: [String] = []
        var datatypes: [String] = []
        var identifier: String?
        var extensions: [String: JSONValue] = [:]
        for (name, value) in members {
            switch name {
            case "type":
                guard let text = value.stringValue, !text.isEmpty else {
                    throw .malformed("an authorization detail needs a non-empty string type")
                }
                type = text
            case "actions": actions = try strings(name, value)
            case "locations": locations = try strings(name, value)
            case "datatypes": datatypes = try strings(name, value)
            case "identifier":
                guard let text = value.stringValue else { throw .malformed("identifier must be a string") }
                identifier = text
            case "privileges": throw .malformed("authorization detail privileges are not part of this profile")
            default: extensions[name] = value
            }
        }
        guard let type else { throw .malformed("an authorization detail needs a non-empty string type") }
        self.type = type
        self.actions = actions
        self.locations = locations
        self.datatypes = datatypes
        self.identifier = identifier
        self.extensions = extensions
    }

}
