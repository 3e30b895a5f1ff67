import WritToken
import Yams

extension RuleReader {
    /// The `when` of a rule; each condition (workload, user, task, delegation) is read on its own.
    static func conditions(_ node: YAMLNode, problems: inout DiagnosticList) -> Conditions {
        var conditions = Conditions()
        guard let members = node.members(allowed: whenKeys, what: "'when'", problems: &problems) else {
            return conditions
        }
        if let workload = problems.read(members["workload"], workloadCondition) { conditions.workload = workload }
        if let user = problems.read(members["user"], userCondition) { conditions.user = user }
        if let task = problems.read(members["task"], taskCondition) { conditions.task = task }
        if let delegation = problems.read(members["delegation"], delegationCondition) {
            conditions.delegation = delegation
        }
        return conditions
    }

    static func workloadCondition(_ node: YAMLNode) throws(PolicyDiagnostic) -> WorkloadCondition {
        let fields = try node.mapping(allowed: ["id", "trust_domain", "attestation"], what: "'workload'")
        var condition = WorkloadCondition()
        if let ids = fields["id"] { condition.ids = try spiffePatterns(ids, what: "workload id") }
        if let domains = fields["trust_domain"] { condition.trustDomains = try domains.strings("trust_domain") }
        if let attestations = fields["attestation"] {
            var values: [Attestation] = []
            for text in try attestations.strings("attestation") {
                guard let value = Attestation(rawValue: text) else {
                    throw attestations.error("attestation must be jwt-svid, x509-svid or oidc, not '\(text)'")
                }
                values.append(value)
            }
            condition.attestations = values
        }
        return condition
    }

    static func taskCondition(_ node: YAMLNode) throws(PolicyDiagnostic) -> TaskCondition {
        let fields = try node.mapping(allowed: ["type", "purpose"], what: "'task'")
        var condition = TaskCondition()
        if let types = fields["type"] { condition.types = try types.strings("task type") }
        if let purposes = fields["purpose"] {
            condition.purposes = try purposes.strings("task purpose").map(TextPattern.init)
        }
        return condition
    }

    static func delegationCondition(_ node: YAMLNode) throws(PolicyDiagnostic) -> DelegationCondition {
        let fields = try node.mapping(allowed: ["min_depth", "max_depth", "delegated_by"], what: "'delegation'")
        var condition = DelegationCondition()
        if let minimum = fields["min_depth"] { condition.minimumDepth = try minimum.integer("min_depth") }
        if let maximum = fields["max_depth"] { condition.maximumDepth = try maximum.integer("max_depth") }
        if let parents = fields["delegated_by"] {
            condition.delegatedBy = try spiffePatterns(parents, what: "delegated_by")
        }
        return condition
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
}
