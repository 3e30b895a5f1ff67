import WritToken
import Yams

extension RuleReader {
    /// One resource entry, or nil when it has a problem (recorded). Each of its keys is read on its own; with no
    /// readable effect, the checks that depend on it (what a permit needs, wildcards) are skipped.
    static func resource(_ node: YAMLNode, effect: Effect?, problems: inout DiagnosticList) -> ResourceRule? {
        let start = problems.count
        guard let fields = node.members(allowed: resourceKeys, what: "a resource entry", problems: &problems) else {
            return nil
        }
        let keysKnown = problems.count == start
        let type = problems.read(fields["type"]) { node throws(PolicyDiagnostic) in try node.nonEmptyString("type") }
        if fields["type"] == nil, keysKnown { problems.record(node.error("a resource entry needs a 'type'")) }
        let locations = problems.read(fields["locations"]) { node throws(PolicyDiagnostic) in
            try node.strings("locations")
        }
        let actions = problems.read(fields["actions"]) { node throws(PolicyDiagnostic) in try node.strings("actions") }
        if effect == .permit, keysKnown {
            if fields["locations"] == nil {
                problems.record(
                    node.error("a permitted resource needs 'locations': the resource servers it applies to")
                )
            }
            if fields["actions"] == nil {
                problems.record(node.error("a permitted resource needs 'actions'"))
            }
        }
        let identifiers = problems.read(fields["identifiers"], identifierPatterns)
        let constraints = problems.read(fields["where"], fieldConstraints)
        let datatypes = problems.read(fields["datatypes"]) { node throws(PolicyDiagnostic) in
            try node.strings("datatypes")
        }
        let wildcards = problems.read(fields["wildcards"]) { node throws(PolicyDiagnostic) in
            guard effect != .forbid else {
                throw node.error("'wildcards' applies to permits only; a forbid always covers them")
            }
            return try node.bool("wildcards")
        }
        guard problems.count == start, let type else { return nil }
        return ResourceRule(
            type: type,
            locations: locations ?? [],
            identifiers: identifiers ?? [],
            actions: actions ?? [],
            datatypes: datatypes ?? [],
            constraints: constraints ?? [],
            allowsWildcards: wildcards ?? false
        )
    }

    static func identifierPatterns(_ node: YAMLNode) throws(PolicyDiagnostic) -> [SegmentPattern] {
        var identifiers: [SegmentPattern] = []
        for text in try node.strings("identifiers") {
            do {
                identifiers.append(try SegmentPattern(text))
            } catch {
                throw node.error("bad identifier pattern '\(text)': \(error.message)")
            }
        }
        return identifiers
    }

    /// The `where` conditions, sorted by field so that rule equality does not depend on their order.
    static func fieldConstraints(_ node: YAMLNode) throws(PolicyDiagnostic) -> [FieldConstraint] {
        guard case .mapping(let mapping) = node.node else { throw node.error("'where' must be a mapping") }
        var constraints: [FieldConstraint] = []
        for (key, value) in mapping {
            let field = try YAMLNode(node: key, file: node.file).nonEmptyString("a field name")
            if AuthorizationDetail.commonMembers.contains(field) {
                throw node.error("'where' is for type-specific fields; \(field) is matched by its own key")
            }
            constraints.append(try constraint(field, YAMLNode(node: value, file: node.file)))
        }
        return constraints.sorted { $0.field < $1.field }
    }

    static func constraint(_ field: String, _ node: YAMLNode) throws(PolicyDiagnostic) -> FieldConstraint {
        let operators = ["equals", "one_of", "at_most", "at_least", "less_than", "greater_than"]
        let members = try node.mapping(allowed: operators, what: "the condition on \(field)")
        guard members.count == 1, let (name, value) = members.first else {
            throw node.error("give exactly one of \(operators.joined(separator: ", ")) for \(field)")
        }
        let comparison: FieldConstraint.Comparison
        switch name {
        case "equals":
            guard let json = value.jsonValue else { throw value.error("equals takes a single value") }
            comparison = .equals(json)
        case "one_of":
            var options: [JSONValue] = []
            for item in try value.sequence("one_of") {
                guard let json = item.jsonValue else { throw item.error("one_of takes plain values") }
                options.append(json)
            }
            comparison = .oneOf(options)
        case "at_most": comparison = .atMost(try value.number(name))
        case "at_least": comparison = .atLeast(try value.number(name))
        case "less_than": comparison = .lessThan(try value.number(name))
        default: comparison = .greaterThan(try value.number(name))
        }
        return FieldConstraint(field: field, comparison: comparison)
    }
}
