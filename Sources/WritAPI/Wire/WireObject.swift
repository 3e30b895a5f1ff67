public import WritToken

/// Reads one JSON object member by member, keeping track of what was read: in a request, a member nothing
/// read is refused by name once the type is done (``finish()``), so each member is spelt once, where it is
/// read.
public final class WireObject {
    /// Where the object is in the body (`$` for the body itself).
    public let path: String
    /// Whether unknown members are refused (a request) or ignored (a response).
    public let mode: WireMode
    private let members: [String: JSONValue]
    private var read: Set<String> = []

    /// A reader over `value`, which must be an object.
    public init(_ value: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        guard case .object(let members) = value else { throw .wrongType(at: path, expected: "an object") }
        self.path = path
        self.mode = mode
        self.members = members
    }

    /// Reads `value` as an object with `body`, then refuses what `body` left unread when reading a request.
    public static func read<T>(
        _ value: JSONValue,
        at path: String,
        mode: WireMode,
        _ body: (WireObject) throws(WireError) -> T
    ) throws(WireError) -> T {
        let object = try WireObject(value, at: path, mode: mode)
        let result = try body(object)
        try object.finish()
        return result
    }

    /// In a request, refuses the first member (in name order) that nothing read.
    public func finish() throws(WireError) {
        guard mode == .request else { return }
        if let unknown = members.keys.sorted().first(where: { !read.contains($0) }) {
            throw .unknownMember(at: child(String(unknown.prefix(64))))
        }
    }

    /// The path of a member.
    public func child(_ name: String) -> String { "\(path).\(name)" }

    /// The raw member, marked as read; nil when absent.
    public func member(_ name: String) -> JSONValue? {
        read.insert(name)
        return members[name]
    }

    /// Every member not read so far, marked as read: for bodies that carry an open set (a token's claims).
    public func remaining() -> [String: JSONValue] {
        let rest = members.filter { !read.contains($0.key) }
        read.formUnion(rest.keys)
        return rest
    }

    // MARK: Required members

    /// A required string.
    public func string(_ name: String) throws(WireError) -> String {
        guard let value = try optionalString(name) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required integer.
    public func integer(_ name: String) throws(WireError) -> Int64 {
        guard let value = try optionalInteger(name) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required boolean.
    public func bool(_ name: String) throws(WireError) -> Bool {
        guard let value = try optionalBool(name) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required array of strings.
    public func strings(_ name: String) throws(WireError) -> [String] {
        guard let value = try optionalStrings(name) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required value of a wire type.
    public func value<T: WireValue>(_ name: String, as type: T.Type = T.self) throws(WireError) -> T {
        guard let value = try optionalValue(name, as: type) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required array of a wire type.
    public func array<T: WireValue>(_ name: String, of type: T.Type = T.self) throws(WireError) -> [T] {
        guard let value = try optionalArray(name, of: type) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required string from a closed set.
    public func enumeration<T: RawRepresentable>(
        _ name: String,
        as type: T.Type = T.self
    ) throws(WireError) -> T
    where T.RawValue == String {
        guard let value = try optionalEnumeration(name, as: type) else { throw .missingMember(at: child(name)) }
        return value
    }

    /// A required JSON object, kept as it is (an audit entry's details).
    public func object(_ name: String) throws(WireError) -> JSONValue {
        guard let value = member(name) else { throw .missingMember(at: child(name)) }
        guard case .object = value else { throw .wrongType(at: child(name), expected: "an object") }
        return value
    }

    // MARK: Optional members

    /// An optional string.
    public func optionalString(_ name: String) throws(WireError) -> String? {
        guard let value = member(name) else { return nil }
        guard case .string(let text) = value else { throw .wrongType(at: child(name), expected: "a string") }
        return text
    }

    /// An optional integer.
    public func optionalInteger(_ name: String) throws(WireError) -> Int64? {
        guard let value = member(name) else { return nil }
        guard case .integer(let number) = value else { throw .wrongType(at: child(name), expected: "an integer") }
        return number
    }

    /// An integer that may be absent or `null`.
    public func nullableInteger(_ name: String) throws(WireError) -> Int64? {
        if member(name) == .null { return nil }
        return try optionalInteger(name)
    }

    /// An optional boolean.
    public func optionalBool(_ name: String) throws(WireError) -> Bool? {
        guard let value = member(name) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(at: child(name), expected: "true or false") }
        return flag
    }

    /// An optional array of strings.
    public func optionalStrings(_ name: String) throws(WireError) -> [String]? {
        guard let value = member(name) else { return nil }
        guard case .array(let elements) = value else {
            throw .wrongType(at: child(name), expected: "an array of strings")
        }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw .wrongType(at: "\(child(name))[\(index)]", expected: "a string")
            }
            result.append(text)
        }
        return result
    }

    /// An optional value of a wire type.
    public func optionalValue<T: WireValue>(_ name: String, as type: T.Type = T.self) throws(WireError) -> T? {
        guard let value = member(name) else { return nil }
        return try T(json: value, at: child(name), mode: mode)
    }

    /// An optional array of a wire type.
    public func optionalArray<T: WireValue>(_ name: String, of type: T.Type = T.self) throws(WireError) -> [T]? {
        guard let value = member(name) else { return nil }
        guard case .array(let elements) = value else { throw .wrongType(at: child(name), expected: "an array") }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try T(json: element, at: "\(child(name))[\(index)]", mode: mode))
        }
        return result
    }

    /// An optional string from a closed set.
    public func optionalEnumeration<T: RawRepresentable>(
        _ name: String,
        as type: T.Type = T.self
    ) throws(WireError) -> T?
    where T.RawValue == String {
        guard let text = try optionalString(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw .invalidValue(at: child(name), "has no value \(String(text.prefix(64)).debugDescription)")
        }
        return value
    }
}

/// Builds a JSON object, leaving out members whose value is nil.
struct WireMembers {
    private(set) var members: [String: JSONValue] = [:]

    subscript(name: String) -> JSONValue? {
        get { members[name] }
        set { members[name] = newValue }
    }

    var json: JSONValue { .object(members) }
}

extension JSONValue {
    /// Strings as a JSON array.
    static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// Wire values as a JSON array.
    static func values<T: WireValue>(_ values: [T]) -> JSONValue { .array(values.map(\.json)) }
}

extension Optional where Wrapped == String {
    /// The string as JSON, or nil.
    var json: JSONValue? { map(JSONValue.string) }
}

extension Optional where Wrapped == Int64 {
    /// The integer as JSON, or nil.
    var json: JSONValue? { map(JSONValue.integer) }
}

extension Optional where Wrapped == Bool {
    /// The flag as JSON, or nil.
    var json: JSONValue? { map(JSONValue.bool) }
}
