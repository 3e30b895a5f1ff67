import WritToken

/// Reads the `monitoring` section of a policy file into detection rules, reporting every problem.
enum MonitoringReader {
    static let ruleKeys = ["id", "description", "when", "refusals", "response"]
    static let whenKeys = ["workload", "task_type"]
    static let refusalKeys = ["codes", "more_than", "within", "per"]

    /// The rules of a `monitoring` list; a rule with a problem is left out and its problems recorded.
    static func rules(_ node: YAMLNode, problems: inout DiagnosticList) -> [MonitoringRule] {
        guard let items = problems.read(node, { node throws(PolicyDiagnostic) in try node.sequence("monitoring") })
        else { return [] }
        return items.compactMap { rule($0, problems: &problems) }
    }

    static func rule(_ node: YAMLNode, problems: inout DiagnosticList) -> MonitoringRule? {
        let start = problems.count
        guard let members = node.members(allowed: ruleKeys, what: "a monitoring rule", problems: &problems) else {
            return nil
        }
        let keysKnown = problems.count == start
        let id = problems.read(members["id"], RuleReader.ruleID)
        if members["id"] == nil, keysKnown { problems.record(node.error("a monitoring rule needs an 'id'")) }
        let name = id.map { "monitoring rule '\($0)'" } ?? "this monitoring rule"
        let description = problems.read(members["description"]) { node throws(PolicyDiagnostic) in
            try node.string("description")
        }
        let scope = members["when"].map { when($0, problems: &problems) }
        let refusals = problems.read(members["refusals"]) { node throws(PolicyDiagnostic) in try self.refusals(node) }
        if members["refusals"] == nil, keysKnown {
            problems.record(node.error("\(name) needs what it detects: 'refusals'"))
        }
        let response = problems.read(members["response"]) { node throws(PolicyDiagnostic) in
            let text = try node.string("response")
            guard let response = MonitoringRule.Response(rawValue: text) else {
                let names = MonitoringRule.Response.allCases.map(\.rawValue).joined(separator: ", ")
                throw node.error("response must be one of: \(names)")
            }
            return response
        }
        if members["response"] == nil, keysKnown {
            problems.record(node.error("\(name) needs a 'response': alert, revoke_task or quarantine_workload"))
        }
        guard problems.count == start, let id, let refusals, let response else { return nil }
        if refusals.per == .workload, response == .revokeTask {
            problems.record(node.error("\(name) counts per workload, so it has no one task to revoke"))
            return nil
        }
        return MonitoringRule(
            id: id,
            description: description,
            workloads: scope?.workloads,
            taskTypes: scope?.taskTypes,
            detection: .refusals(refusals),
            response: response,
            location: node.location
        )
    }

    static func when(
        _ node: YAMLNode,
        problems: inout DiagnosticList
    ) -> (workloads: [SPIFFEPattern]?, taskTypes: [String]?) {
        guard let members = node.members(allowed: whenKeys, what: "a monitoring rule's 'when'", problems: &problems)
        else { return (nil, nil) }
        let workloads = problems.read(members["workload"]) { node throws(PolicyDiagnostic) in
            var patterns: [SPIFFEPattern] = []
            for text in try node.strings("workload") {
                do throws(SegmentPattern.SyntaxError) {
                    patterns.append(try SPIFFEPattern(text))
                } catch {
                    throw node.error("workload '\(text)': \(error.message)")
                }
            }
            return patterns
        }
        let taskTypes = problems.read(members["task_type"]) { node throws(PolicyDiagnostic) in
            try node.strings("task_type")
        }
        return (workloads, taskTypes)
    }

    static func refusals(_ node: YAMLNode) throws(PolicyDiagnostic) -> MonitoringRule.Refusals {
        let members = try node.mapping(allowed: refusalKeys, what: "'refusals'")
        var codes = MonitoringRule.defaultCodes
        if let list = members["codes"] {
            let named = try list.strings("codes")
            for code in named where !MonitoringRule.refusalCodes.contains(code) {
                throw list.error(
                    "unknown refusal code '\(code)'; expected some of: "
                        + MonitoringRule.refusalCodes.joined(separator: ", ")
                )
            }
            codes = Set(named)
        }
        guard let count = members["more_than"] else { throw node.error("'refusals' needs 'more_than': a count") }
        let moreThan = try count.integer("more_than")
        guard let window = members["within"] else {
            throw node.error("'refusals' needs 'within': a window such as 30s or 5m")
        }
        let within = try window.duration("within")
        guard within <= 86_400 else { throw window.error("within must be at most 24h") }
        var per = MonitoringRule.Scope.task
        if let scope = members["per"] {
            guard let value = MonitoringRule.Scope(rawValue: try scope.string("per")) else {
                throw scope.error("per must be task or workload")
            }
            per = value
        }
        return MonitoringRule.Refusals(codes: codes, moreThan: moreThan, within: within, per: per)
    }
}
