public import WritToken

/// What the policy files say about one resource server (an audience) beyond the rules: what an implicit task
/// for it is called, and which OAuth `scope` values stand for which authorization details there. A client
/// that asks the token endpoint for a token with only `resource` and `scope` (as stock OAuth and MCP clients
/// do) gets an implicit task: its type and purpose come from here, its authorization details from the scopes.
/// The rules still decide the task, exactly as for a task asked for by name.
public struct Audience: Sendable, Hashable {
    /// The resource server, as tokens name it in `aud` and rules in `locations`.
    public var location: String
    /// The type of an implicit task at this audience, when the request names none.
    public var implicitTaskType: String?
    /// The purpose of an implicit task at this audience, when the request states none.
    public var implicitPurpose: String?
    /// What each scope value stands for, by value.
    public var scopes: [String: ScopeMapping]
    /// Where it is declared.
    public var source: SourceLocation

    /// An audience's declarations.
    public init(
        location: String,
        implicitTaskType: String? = nil,
        implicitPurpose: String? = nil,
        scopes: [String: ScopeMapping] = [:],
        source: SourceLocation = SourceLocation(file: "-", line: 1, column: 1)
    ) {
        self.location = location
        self.implicitTaskType = implicitTaskType
        self.implicitPurpose = implicitPurpose
        self.scopes = scopes
        self.source = source
    }

    /// The authorization details a space-separated `scope` value stands for at this audience, one per value, in
    /// the order given (a repeated value counts once); the first value with no mapping is thrown.
    public func details(forScope scope: String) throws(UnmappedScope) -> [AuthorizationDetail] {
        var seen: Set<String> = []
        var details: [AuthorizationDetail] = []
        for value in scope.split(separator: " ").map(String.init) where seen.insert(value).inserted {
            guard let mapping = scopes[value] else { throw UnmappedScope(value: value) }
            details.append(mapping.detail(at: location))
        }
        return details
    }

    /// The scope values whose details together are exactly `details`, when every entry is one a scope stands
    /// for; nil otherwise.
    public func scope(for details: [AuthorizationDetail]) -> String? {
        var values: [String] = []
        for detail in details {
            guard let value = scopes.keys.sorted().first(where: { scopes[$0]?.detail(at: location) == detail }) else {
                return nil
            }
            values.append(value)
        }
        return values.isEmpty ? nil : values.joined(separator: " ")
    }
}

/// A `scope` value with no mapping at the audience asked for.
public struct UnmappedScope: Error, Sendable, Hashable {
    /// The value.
    public let value: String
}

/// What one scope value stands for: one authorization detail at the audience.
public struct ScopeMapping: Sendable, Hashable {
    /// The detail's type.
    public var type: String
    /// The actions.
    public var actions: [String]
    /// The resource, exactly or as a `/*` prefix; nil for the whole type.
    public var identifier: String?

    /// A mapping.
    public init(type: String, actions: [String], identifier: String? = nil) {
        self.type = type
        self.actions = actions
        self.identifier = identifier
    }

    /// The detail at an audience.
    public func detail(at location: String) -> AuthorizationDetail {
        AuthorizationDetail(type: type, actions: actions, locations: [location], identifier: identifier)
    }

    /// Whether a string is a scope value as RFC 6749 §3.3 defines one: printable ASCII but space, `"` and `\`.
    public static func isScopeValue(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256
            && text.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }
}
