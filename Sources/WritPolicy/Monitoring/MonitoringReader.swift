import WritToken

/// Reads the `monitoring` section of a policy file into detection rules, reporting every problem.
enum MonitoringReader {
    static let detections = ["refusals", "new_resource", "rate", "fan_out", "two_bindings"]
    static let ruleKeys = ["id", "description", "when"] + detections + ["response"]
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
        let named = Self.detections.filter { members[$0] != nil }
        if named.isEmpty, keysKnown {
            problems.record(
                node.error(
                    "\(name) needs what it detects: 'refusals', 'new_resource', 'rate', 'fan_out' or 'two_bindings'"
                )
            )
        }
        if named.count > 1 {
            problems.record(node.error("\(name) detects one thing; it names \(named.joined(separator: " and "))"))
        }
        let detection = problems.read(named.count == 1 ? members[named[0]] : nil) {
            node throws(PolicyDiagnostic) in try self.detection(named[0], node)
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
        guard problems.count == start, let id, let detection, let response else { return nil }
        if case .refusals(let refusals) = detection, refusals.per == .workload, response == .revokeTask {
            problems.record(node.error("\(name) counts per workload, so it has no one task to revoke"))
            return nil
        }
        if case .refusals(let refusals) = detection, refusals.codes.contains("broker_assertion_refused"),
            response != .alert
        {
            problems.record(
                node.error(
                    "\(name) counts broker_assertion_refused, which anyone holding an old assertion of the workload "
                        + "can cause: its response must be alert"
                )
            )
            return nil
        }
        return MonitoringRule(
            id: id,
            description: description,
            workloads: scope?.workloads,
            taskTypes: scope?.taskTypes,
            detection: detection,
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

    static func detection(_ kind: String, _ node: YAMLNode) throws(PolicyDiagnostic) -> MonitoringRule.Detection {
        switch kind {
        case "refusals": return .refusals(try refusals(node))
        case "new_resource":
            let members = try node.mapping(allowed: ["after_tasks"], what: "'new_resource'")
            return .newResource(.init(afterTasks: try members["after_tasks"]?.integer("after_tasks") ?? 20))
        case "two_bindings":
            guard try node.bool("two_bindings") else {
                throw node.error("two_bindings must be true; leave the rule out to not detect it")
            }
            return .twoBindings
        case "fan_out": return .fanOut(try multiple(node, of: "fan_out"))
        default: return .rate(try multiple(node, of: "rate"))
        }
    }

    /// `above` × a baseline's p99, once it holds `after_tasks` finished tasks (`rate` and `fan_out`).
    static func multiple(_ node: YAMLNode, of kind: String) throws(PolicyDiagnostic) -> MonitoringRule.Rate {
        let members = try node.mapping(allowed: ["above", "after_tasks"], what: "'\(kind)'")
        guard let above = members["above"] else {
            throw node.error("'\(kind)' needs 'above': a multiple of the p99")
        }
        let multiple = try above.number("above")
        guard multiple >= 1, multiple <= 1000 else { throw above.error("above must be from 1 to 1000") }
        let after = try members["after_tasks"]?.integer("after_tasks") ?? 20
        guard (1...UsageBaseline.recentTasks).contains(after) else {
            throw (members["after_tasks"] ?? node).error(
                "after_tasks must be from 1 to \(UsageBaseline.recentTasks) (the finished tasks a baseline keeps)"
            )
        }
        return .init(above: multiple, afterTasks: after)
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
