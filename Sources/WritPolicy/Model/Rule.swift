public import Foundation
public import WritToken

/// Where a rule was written, for messages.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public let file: String
    /// The 1-based line.
    public let line: Int
    /// The 1-based column.
    public let column: Int

    /// A location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A permit or a forbid.
public enum Effect: String, Sendable, Hashable {
    case permit, forbid
}

/// One policy rule: when it applies, and what it permits or forbids.
///
/// A class so that evaluation passes rules around by reference, never copying their contents.
public final class Rule: Sendable, Hashable {
    /// The rule's id, unique across the policy set.
    public let id: String
    /// Permit or forbid.
    public let effect: Effect
    /// Free text for people.
    public let description: String?
    /// When the rule applies.
    public let conditions: Conditions
    /// For a permit, the resources it grants; for a forbid, the resources it forbids (empty: all of them).
    public let resources: [ResourceRule]
    /// For a permit, its ceilings.
    public let ceilings: Ceilings
    /// Where it was written.
    public let location: SourceLocation

    /// A rule.
    public init(
        id: String,
        effect: Effect,
        description: String? = nil,
        conditions: Conditions,
        resources: [ResourceRule],
        ceilings: Ceilings = Ceilings(),
        location: SourceLocation
    ) {
        self.id = id
        self.effect = effect
        self.description = description
        self.conditions = conditions
        self.resources = resources
        self.ceilings = ceilings
        self.location = location
    }

    public static func == (lhs: Rule, rhs: Rule) -> Bool {
        lhs.id == rhs.id && lhs.effect == rhs.effect && lhs.description == rhs.description
            && lhs.conditions == rhs.conditions && lhs.resources == rhs.resources && lhs.ceilings == rhs.ceilings
            && lhs.location == rhs.location
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(location)
    }
}

/// The limits a permit sets.
public struct Ceilings: Sendable, Hashable {
    /// The longest a task may run.
    public var taskDuration: TimeInterval
    /// The longest a token may live.
    public var tokenLifetime: TimeInterval
    /// How many levels of sub-tasks may be delegated below a task.
    public var delegationDepth: Int
    /// The most authorization details one task may ask for.
    public var resources: Int
    /// Whether bearer tokens may be issued.
    public var bearerTokens: Bool

    /// Ceilings; the defaults are deliberately tight.
    public init(
        taskDuration: TimeInterval = 900,
        tokenLifetime: TimeInterval = 300,
        delegationDepth: Int = 0,
        resources: Int = 10,
        bearerTokens: Bool = false
    ) {
        self.taskDuration = taskDuration
        self.tokenLifetime = tokenLifetime
        self.delegationDepth = delegationDepth
        self.resources = resources
        self.bearerTokens = bearerTokens
    }
}

/// What a rule grants or forbids on one kind of resource.
public struct ResourceRule: Sendable, Hashable {
    /// The resource type (an authorization detail's `type`).
    public let type: String
    /// The resource servers; empty means any (for a forbid) or none named (a permit then requires none).
    public let locations: [String]
    /// Identifier patterns; empty means any identifier, or none.
    public let identifiers: [SegmentPattern]
    /// The actions; for a forbid, empty means every action.
    public let actions: [String]
    /// Allowed (permit) or matching (forbid) datatypes; empty means any.
    public let datatypes: [String]
    /// Conditions on type-specific members of the entry, e.g. `amount`.
    public let constraints: [FieldConstraint]
    /// For a permit: whether a task may ask for everything below a prefix (`prefix/*`) instead of naming
    /// each resource. Off by default, so tasks name what they touch.
    public let allowsWildcards: Bool

    /// A resource rule.
    public init(
        type: String,
        locations: [String] = [],
        identifiers: [SegmentPattern] = [],
        actions: [String],
        datatypes: [String] = [],
        constraints: [FieldConstraint] = [],
        allowsWildcards: Bool = false
    ) {
        self.type = type
        self.locations = locations
        self.identifiers = identifiers
        self.actions = actions
        self.datatypes = datatypes
        self.constraints = constraints
        self.allowsWildcards = allowsWildcards
    }
}

/// A comparison on a type-specific member of an authorization detail.
public struct FieldConstraint: Sendable, Hashable {
    /// How the member is compared.
    public enum Comparison: Sendable, Hashable {
        case equals(JSONValue)
        case oneOf([JSONValue])
        case atMost(Double)
        case atLeast(Double)
        case lessThan(Double)
        case greaterThan(Double)
    }

    /// The member's name.
    public let field: String
    /// The comparison.
    public let comparison: Comparison

    /// A constraint.
    public init(field: String, comparison: Comparison) {
        self.field = field
        self.comparison = comparison
    }

    /// Whether a value satisfies the comparison; nil when the value is absent or not comparable.
    func holds(for value: JSONValue?) -> Bool? {
        guard let value else { return nil }
        switch comparison {
        case .equals(let expected): return Self.equal(value, expected)
        case .oneOf(let options):
            var comparable = false
            for option in options {
                switch Self.equal(value, option) {
                case true: return true
                case false: comparable = true
                case nil: continue
                }
            }
            return comparable ? false : nil
        case .atMost(let limit): return Self.number(value).map { $0 <= limit }
        case .atLeast(let limit): return Self.number(value).map { $0 >= limit }
        case .lessThan(let limit): return Self.number(value).map { $0 < limit }
        case .greaterThan(let limit): return Self.number(value).map { $0 > limit }
        }
    }

    /// Equality across JSON types: numbers compare as numbers, strings and booleans as themselves; nil when
    /// the two are not comparable (a string against a number), so a forbid treats them as a match.
    static func equal(_ value: JSONValue, _ expected: JSONValue) -> Bool? {
        if let left = number(value), let right = number(expected) { return left == right }
        switch (value, expected) {
        case (.string(let left), .string(let right)): return bytesEqual(left, right)
        case (.bool(let left), .bool(let right)): return left == right
        case (.null, .null): return true
        default: return nil
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let integer): Double(integer)
        case .double(let double): double
        default: nil
        }
    }
}
