import WritToken
import Yams

/// Turns one policy document into rules, checking everything a rule must be.
enum RuleReader {
    static let ruleKeys = ["id", "effect", "description", "when", "resources", "limits"]
    static let whenKeys = ["workload", "user", "task", "delegation"]
    static let resourceKeys = ["type", "locations", "identifiers", "actions", "datatypes", "where", "wildcards"]
    static let limitKeys = ["task_duration", "token_lifetime", "delegation_depth", "resources", "bearer_tokens"]

    static func rules(in text: String, file: String) throws(PolicyDiagnostic) -> [Rule] {
        guard let root = try YAMLNode.parse(text, file: file) else { return [] }
        let top = try root.mapping(allowed: ["rules"], what: "a policy file")
        guard let list = top["rules"] else { throw root.error("a policy file needs a 'rules' list") }
        var rules: [Rule] = []
        for node in try list.sequence("rules") { rules.append(try rule(node)) }
        return rules
    }

    static func rule(_ node: YAMLNode) throws(PolicyDiagnostic) -> Rule {
        let members = try node.mapping(allowed: ruleKeys, what: "a rule")
        guard let idNode = members["id"] else { throw node.error("a rule needs an 'id'") }
        let id = try idNode.nonEmptyString("id")
        guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw idNode.error("a rule id may hold letters, digits, '-', '_' and '.' only")
        }
        guard let effectNode = members["effect"] else {
            throw node.error("rule '\(id)' needs an 'effect': permit or forbid")
        }
        guard let effect = Effect(rawValue: try effectNode.string("effect")) else {
            throw effectNode.error("effect must be permit or forbid")
        }
        let conditions =
            try members["when"].map { (when: YAMLNode) throws(PolicyDiagnostic) in try self.conditions(when) }
            ?? Conditions()
        var resources: [ResourceRule] = []
        if let list = members["resources"] {
            for item in try list.sequence("resources") { resources.append(try resource(item, effect: effect)) }
        }
        if effect == .permit, resources.isEmpty {
            throw node.error("permit '\(id)' grants nothing: give it at least one entry under 'resources'")
        }
        var ceilings = Ceilings()
        if let limits = members["limits"] {
            guard effect == .permit else { throw limits.error("only a permit has limits") }
            ceilings = try self.ceilings(limits)
        }
        try checkSatisfiable(conditions, resources: resources, node: node, id: id)
        return Rule(
            id: id,
            effect: effect,
            description: try members["description"]?.string("description"),
            conditions: conditions,
            resources: resources,
            ceilings: ceilings,
            location: node.location
        )
    }

    static func conditions(_ node: YAMLNode) throws(PolicyDiagnostic) -> Conditions {
        let members = try node.mapping(allowed: whenKeys, what: "'when'")
        var conditions = Conditions()
        if let workload = members["workload"] {
            let fields = try workload.mapping(allowed: ["id", "trust_domain", "attestation"], what: "'workload'")
            if let ids = fields["id"] { conditions.workload.ids = try spiffePatterns(ids, what: "workload id") }
            if let domains = fields["trust_domain"] {
                conditions.workload.trustDomains = try domains.strings("trust_domain")
            }
            if let attestations = fields["attestation"] {
                var values: [Attestation] = []
                for text in try attestations.strings("attestation") {
                    guard let value = Attestation(rawValue: text) else {
                        throw attestations.error("attestation must be jwt-svid, x509-svid or oidc, not '\(text)'")
                    }
                    values.append(value)
                }
                conditions.workload.attestations = values
            }
        }
        if let user = members["user"] {
            conditions.user = try userCondition(user)
        }
        if let task = members["task"] {
            let fields = try task.mapping(allowed: ["type", "purpose"], what: "'task'")
            if let types = fields["type"] { conditions.task.types = try types.strings("task type") }
            if let purposes = fields["purpose"] {
                conditions.task.purposes = try purposes.strings("task purpose").map(TextPattern.init)
            }
        }
        if let delegation = members["delegation"] {
            let fields = try delegation.mapping(
                allowed: ["min_depth", "max_depth", "delegated_by"],
                what: "'delegation'"
            )
            if let minimum = fields["min_depth"] {
                conditions.delegation.minimumDepth = try minimum.integer("min_depth")
            }
            if let maximum = fields["max_depth"] {
                conditions.delegation.maximumDepth = try maximum.integer("max_depth")
            }
            if let parents = fields["delegated_by"] {
                conditions.delegation.delegatedBy = try spiffePatterns(parents, what: "delegated_by")
            }
        }
        return conditions
    }

    static func userCondition(_ node: YAMLNode) throws(PolicyDiagnostic) -> UserCondition {
        if node.node.scalar != nil {
            switch try node.string("user") {
            case "absent": return .absent
            case "any": return .any
            case "present": return .present(UserClaimsCondition())
            default: throw node.error("user must be absent, any, present, or a mapping of claim conditions")
            }
        }
        let fields = try node.mapping(allowed: ["sub", "groups", "email_domain", "claims"], what: "'user'")
        var condition = UserClaimsCondition()
        if let subjects = fields["sub"] { condition.subjects = try subjects.strings("sub").map(TextPattern.init) }
        if let groups = fields["groups"] { condition.groups = try groups.strings("groups") }
        if let domains = fields["email_domain"] {
            condition.emailDomains = try domains.strings("email_domain").map { $0.lowercased() }
        }
        if let claims = fields["claims"] {
            guard case .mapping(let mapping) = claims.node else { throw claims.error("claims must be a mapping") }
            for (key, value) in mapping {
                let keyNode = YAMLNode(node: key, file: claims.file)
                let name = try keyNode.nonEmptyString("a claim name")
                guard condition.claims[name] == nil else { throw keyNode.error("duplicate claim '\(name)'") }
                condition.claims[name] = try YAMLNode(node: value, file: claims.file).strings("claim \(name)")
                    .map(TextPattern.init)
            }
        }
        return .present(condition)
    }

    static func resource(_ node: YAMLNode, effect: Effect) throws(PolicyDiagnostic) -> ResourceRule {
        let fields = try node.mapping(allowed: resourceKeys, what: "a resource entry")
        guard let typeNode = fields["type"] else { throw node.error("a resource entry needs a 'type'") }
        let type = try typeNode.nonEmptyString("type")
        let locations = try fields["locations"]?.strings("locations") ?? []
        let actions = try fields["actions"]?.strings("actions") ?? []
        if effect == .permit {
            guard !locations.isEmpty else {
                throw node.error("a permitted resource needs 'locations': the resource servers it applies to")
            }
            guard !actions.isEmpty else { throw node.error("a permitted resource needs 'actions'") }
        }
        var identifiers: [SegmentPattern] = []
        if let list = fields["identifiers"] {
            for text in try list.strings("identifiers") {
                do {
                    identifiers.append(try SegmentPattern(text))
                } catch {
                    throw list.error("bad identifier pattern '\(text)': \(error.message)")
                }
            }
        }
        var constraints: [FieldConstraint] = []
        if let conditions = fields["where"] {
            guard case .mapping(let mapping) = conditions.node else {
                throw conditions.error("'where' must be a mapping")
            }
            for (key, value) in mapping {
                let field = try YAMLNode(node: key, file: node.file).nonEmptyString("a field name")
                if AuthorizationDetail.commonMembers.contains(field) {
                    throw conditions.error("'where' is for type-specific fields; \(field) is matched by its own key")
                }
                constraints.append(try constraint(field, YAMLNode(node: value, file: node.file)))
            }
        }
        return ResourceRule(
            type: type,
            locations: locations,
            identifiers: identifiers,
            actions: actions,
            datatypes: try fields["datatypes"]?.strings("datatypes") ?? [],
            constraints: constraints.sorted { $0.field < $1.field },
            allowsWildcards: try wildcards(fields["wildcards"], effect: effect)
        )
    }

    static func wildcards(_ node: YAMLNode?, effect: Effect) throws(PolicyDiagnostic) -> Bool {
        guard let node else { return false }
        guard effect == .permit else {
            throw node.error("'wildcards' applies to permits only; a forbid always covers them")
        }
        return try node.bool("wildcards")
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

    static func ceilings(_ node: YAMLNode) throws(PolicyDiagnostic) -> Ceilings {
        let fields = try node.mapping(allowed: limitKeys, what: "'limits'")
        var ceilings = Ceilings()
        if let value = fields["task_duration"] { ceilings.taskDuration = try value.duration("task_duration") }
        if let value = fields["token_lifetime"] { ceilings.tokenLifetime = try value.duration("token_lifetime") }
        if let value = fields["delegation_depth"] { ceilings.delegationDepth = try value.integer("delegation_depth") }
        if let value = fields["resources"] {
            ceilings.resources = try value.integer("resources")
            guard ceilings.resources > 0 else { throw value.error("resources must be at least 1") }
        }
        if let value = fields["bearer_tokens"] { ceilings.bearerTokens = try value.bool("bearer_tokens") }
        if ceilings.tokenLifetime > ceilings.taskDuration {
            throw node.error("token_lifetime cannot exceed task_duration")
        }
        return ceilings
    }

    static func spiffePatterns(_ node: YAMLNode, what: String) throws(PolicyDiagnostic) -> [SPIFFEPattern] {
        var patterns: [SPIFFEPattern] = []
        for text in try node.strings(what) {
            do {
                patterns.append(try SPIFFEPattern(text))
            } catch {
                throw node.error("bad \(what) pattern '\(text)': \(error.message)")
            }
        }
        return patterns
    }

    /// Refuses rules that can never match.
    static func checkSatisfiable(
        _ conditions: Conditions,
        resources: [ResourceRule],
        node: YAMLNode,
        id: String
    ) throws(PolicyDiagnostic) {
        let delegation = conditions.delegation
        if delegation.minimumDepth > delegation.maximumDepth {
            throw node.error("rule '\(id)' can never match: min_depth is above max_depth")
        }
        if !delegation.delegatedBy.isEmpty, delegation.maximumDepth == 0 {
            throw node.error("rule '\(id)' can never match: delegated_by needs a depth of at least 1")
        }
        let workload = conditions.workload
        if !workload.ids.isEmpty, !workload.trustDomains.isEmpty,
            !workload.ids.contains(where: { workload.trustDomains.contains($0.trustDomain) })
        {
            throw node.error("rule '\(id)' can never match: no workload id is in the listed trust domains")
        }
        if case .absent = conditions.user {
            for resource in resources {
                for pattern in resource.identifiers where pattern.templates.contains(where: \.needsUser) {
                    throw node.error(
                        "rule '\(id)' can never match: identifier '\(pattern)' uses a user template but the rule requires no user"
                    )
                }
            }
        }
    }
}
