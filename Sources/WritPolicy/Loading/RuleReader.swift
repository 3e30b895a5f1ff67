import WritToken
import Yams

/// Turns one policy document into rules, checking everything a rule must be and reporting every problem.
///
/// A refused rule does not stop the reading: the next rule is read, and so are the independent parts of the
/// same rule (its conditions, each resource entry, its limits). A check that needs a refused part (a missing
/// key that was misspelt, satisfiability when a condition did not read) is skipped, so no problem is reported
/// twice under two names.
enum RuleReader {
    static let ruleKeys = ["id", "effect", "description", "when", "resources", "limits"]
    static let whenKeys = ["workload", "user", "task", "delegation"]
    static let resourceKeys = ["type", "locations", "identifiers", "actions", "datatypes", "where", "wildcards"]
    static let limitKeys = ["task_duration", "token_lifetime", "delegation_depth", "resources", "bearer_tokens"]

    /// The rules and audiences of a document; the ones with a problem are left out and their problems recorded.
    static func document(
        in text: String,
        file: String,
        problems: inout DiagnosticList
    ) -> (rules: [Rule], audiences: [Audience], monitoring: [MonitoringRule]) {
        // A document that is not valid YAML, or that uses aliases, has no trustworthy structure to read on.
        guard let parsed = problems.check({ () throws(PolicyDiagnostic) in try YAMLNode.parse(text, file: file) }),
            let root = parsed
        else { return ([], [], []) }
        let start = problems.count
        guard
            let top = root.members(
                allowed: ["rules", "audiences", "monitoring"],
                what: "a policy file",
                problems: &problems
            )
        else { return ([], [], []) }
        if top["rules"] == nil, top["audiences"] == nil, top["monitoring"] == nil {
            if problems.count == start {
                problems.record(
                    root.error("a policy file needs a 'rules' list (or an 'audiences' or 'monitoring' list)")
                )
            }
            return ([], [], [])
        }
        var rules: [Rule] = []
        if let list = top["rules"],
            let items = problems.read(list, { node throws(PolicyDiagnostic) in try node.sequence("rules") })
        {
            rules = items.compactMap { rule($0, problems: &problems) }
        }
        let audiences = top["audiences"].map { AudienceReader.audiences($0, problems: &problems) } ?? []
        let monitoring = top["monitoring"].map { MonitoringReader.rules($0, problems: &problems) } ?? []
        return (rules, audiences, monitoring)
    }

    /// One rule, or nil when it has a problem (recorded).
    static func rule(_ node: YAMLNode, problems: inout DiagnosticList) -> Rule? {
        let start = problems.count
        guard let members = node.members(allowed: ruleKeys, what: "a rule", problems: &problems) else { return nil }
        // A misspelt key is reported once; what it would have supplied is not also reported missing.
        let keysKnown = problems.count == start
        let id = problems.read(members["id"], ruleID)
        if members["id"] == nil, keysKnown { problems.record(node.error("a rule needs an 'id'")) }
        let name = id.map { "rule '\($0)'" } ?? "this rule"
        let effect = problems.read(members["effect"]) { node throws(PolicyDiagnostic) in
            guard let effect = Effect(rawValue: try node.string("effect")) else {
                throw node.error("effect must be permit or forbid")
            }
            return effect
        }
        if members["effect"] == nil, keysKnown {
            problems.record(node.error("\(name) needs an 'effect': permit or forbid"))
        }
        let description = problems.read(members["description"]) { node throws(PolicyDiagnostic) in
            try node.string("description")
        }

        let conditionsStart = problems.count
        let conditions = members["when"].map { self.conditions($0, problems: &problems) } ?? Conditions()
        let conditionsRead = problems.count == conditionsStart

        let resourcesStart = problems.count
        var resources: [ResourceRule] = []
        if let list = members["resources"],
            let items = problems.read(list, { node throws(PolicyDiagnostic) in try node.sequence("resources") })
        {
            resources = items.compactMap { resource($0, effect: effect, problems: &problems) }
        }
        let resourcesRead = problems.count == resourcesStart
        if effect == .permit, resourcesRead, resources.isEmpty, keysKnown {
            let permit = id.map { "permit '\($0)'" } ?? "this permit"
            problems.record(node.error("\(permit) grants nothing: give it at least one entry under 'resources'"))
        }

        var ceilings = Ceilings()
        if let limits = members["limits"] {
            if effect == .forbid {
                problems.record(limits.error("only a permit has limits"))
            } else if let value = self.ceilings(limits, problems: &problems) {
                ceilings = value
            }
        }
        if conditionsRead, resourcesRead {
            _ = problems.check { () throws(PolicyDiagnostic) in
                try checkSatisfiable(conditions, resources: resources, node: node, name: name)
            }
        }
        guard problems.count == start, let id, let effect else { return nil }
        return Rule(
            id: id,
            effect: effect,
            description: description,
            conditions: conditions,
            resources: resources,
            ceilings: ceilings,
            location: node.location
        )
    }

    static func ruleID(_ node: YAMLNode) throws(PolicyDiagnostic) -> String {
        let id = try node.nonEmptyString("id")
        guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw node.error("a rule id may hold letters, digits, '-', '_' and '.' only")
        }
        return id
    }

    /// The limits of a permit; each limit is read on its own, and the limits compared only when both read.
    static func ceilings(_ node: YAMLNode, problems: inout DiagnosticList) -> Ceilings? {
        let start = problems.count
        guard let fields = node.members(allowed: limitKeys, what: "'limits'", problems: &problems) else { return nil }
        var ceilings = Ceilings()
        let taskDuration = problems.read(fields["task_duration"]) { node throws(PolicyDiagnostic) in
            try node.duration("task_duration")
        }
        let tokenLifetime = problems.read(fields["token_lifetime"]) { node throws(PolicyDiagnostic) in
            try node.duration("token_lifetime")
        }
        if let taskDuration { ceilings.taskDuration = taskDuration }
        if let tokenLifetime { ceilings.tokenLifetime = tokenLifetime }
        let durationsRead =
            (fields["task_duration"] == nil || taskDuration != nil)
            && (fields["token_lifetime"] == nil || tokenLifetime != nil)
        if let depth = problems.read(
            fields["delegation_depth"],
            { node throws(PolicyDiagnostic) in
                try node.integer("delegation_depth")
            }
        ) {
            ceilings.delegationDepth = depth
        }
        if let count = problems.read(
            fields["resources"],
            { node throws(PolicyDiagnostic) in
                let count = try node.integer("resources")
                guard count > 0 else { throw node.error("resources must be at least 1") }
                return count
            }
        ) {
            ceilings.resources = count
        }
        if let bearer = problems.read(
            fields["bearer_tokens"],
            { node throws(PolicyDiagnostic) in
                try node.bool("bearer_tokens")
            }
        ) {
            ceilings.bearerTokens = bearer
        }
        if durationsRead, ceilings.tokenLifetime > ceilings.taskDuration {
            problems.record(node.error("token_lifetime cannot exceed task_duration"))
        }
        return problems.count == start ? ceilings : nil
    }

    /// Refuses rules that can never match.
    static func checkSatisfiable(
        _ conditions: Conditions,
        resources: [ResourceRule],
        node: YAMLNode,
        name: String
    ) throws(PolicyDiagnostic) {
        let delegation = conditions.delegation
        if delegation.minimumDepth > delegation.maximumDepth {
            throw node.error("\(name) can never match: min_depth is above max_depth")
        }
        if !delegation.delegatedBy.isEmpty, delegation.maximumDepth == 0 {
            throw node.error("\(name) can never match: delegated_by needs a depth of at least 1")
        }
        let workload = conditions.workload
        if !workload.ids.isEmpty, !workload.trustDomains.isEmpty,
            !workload.ids.contains(where: { workload.trustDomains.contains($0.trustDomain) })
        {
            throw node.error("\(name) can never match: no workload id is in the listed trust domains")
        }
        if case .absent = conditions.user {
            for resource in resources {
                for pattern in resource.identifiers where pattern.templates.contains(where: \.needsUser) {
                    throw node.error(
                        "\(name) can never match: identifier '\(pattern)' uses a user template but the rule requires no user"
                    )
                }
            }
        }
    }
}
