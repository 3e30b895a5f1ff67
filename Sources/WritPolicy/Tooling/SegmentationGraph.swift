/// Which workloads may reach which resource servers with which actions: the segmentation map, as DOT.
public struct SegmentationGraph: Sendable {
    /// One permitted or forbidden path.
    public struct Edge: Sendable, Hashable {
        /// The workloads (a rule's workload condition, as text).
        public let workloads: String
        /// The resource server.
        public let location: String
        /// `type: action, action`.
        public let label: String
        /// The rule.
        public let rule: String
        /// Permit or forbid.
        public let effect: Effect
        /// With observed usage: the allowed uses this permit's entry could have allowed (0: never used).
        public var uses: Int?
    }

    /// Every edge, sorted.
    public let edges: [Edge]
    /// With observed usage: each workload's traffic to each resource server, allowed and refused.
    public let observed: [ObservedUsage.Edge]

    /// Builds the map of a policy set; with observed usage, each permit edge carries its uses and the
    /// observed traffic is drawn over it.
    public init(policies: PolicySet, observed usage: ObservedUsage? = nil) {
        var edges: [Edge] = []
        for rule in policies.rules {
            let workload = Self.describe(rule.conditions.workload)
            let resources =
                rule.resources.isEmpty
                ? [ResourceRule(type: "any resource", actions: [])] : rule.resources
            for resource in resources {
                let actions = resource.actions.isEmpty ? "any action" : resource.actions.joined(separator: ", ")
                var label = "\(resource.type): \(actions)"
                if !resource.identifiers.isEmpty {
                    label += "\\n" + resource.identifiers.map(\.source).joined(separator: "\\n")
                }
                let locations = resource.locations.isEmpty ? ["any resource server"] : resource.locations
                for location in locations {
                    var edge = Edge(
                        workloads: workload,
                        location: location,
                        label: label,
                        rule: rule.id,
                        effect: rule.effect
                    )
                    if let usage, rule.effect == .permit, !rule.resources.isEmpty {
                        edge.uses = usage.allowedUses(
                            of: rule,
                            resource,
                            at: resource.locations.isEmpty ? nil : location
                        )
                    }
                    edges.append(edge)
                }
            }
        }
        self.edges = edges.sorted {
            ($0.workloads, $0.location, $0.rule, $0.label) < ($1.workloads, $1.location, $1.rule, $1.label)
        }
        self.observed = usage?.edges ?? []
    }

    static func describe(_ condition: WorkloadCondition) -> String {
        if !condition.ids.isEmpty { return condition.ids.map(\.source).sorted().joined(separator: "\\n") }
        if !condition.trustDomains.isEmpty {
            return condition.trustDomains.sorted().map { "any workload in \($0)" }.joined(separator: "\\n")
        }
        return "any workload"
    }

    /// The map in Graphviz DOT: permits as solid edges, forbids as dashed red ones.
    public var dot: String {
        var lines = [
            "digraph writ_segmentation {",
            "  rankdir=LR;",
            "  node [shape=box, fontname=\"Helvetica\", fontsize=10];",
            "  edge [fontname=\"Helvetica\", fontsize=9];",
        ]
        let workloads = Set(edges.map(\.workloads)).sorted()
        let servers = Set(edges.map(\.location)).sorted()
        for workload in workloads { lines.append("  \(quoted(workload)) [style=rounded];") }
        for server in servers { lines.append("  \(quoted(server)) [shape=cylinder];") }
        for edge in edges {
            var style = edge.effect == .forbid ? ", style=dashed, color=red, fontcolor=red" : ""
            let prefix = edge.effect == .forbid ? "FORBID " : ""
            var usage = ""
            if let uses = edge.uses {
                usage = uses == 0 ? "\\nnever used" : "\\nused \(uses)×"
                if uses == 0 { style = ", style=dotted, color=gray50, fontcolor=gray50" }
            }
            let label = prefix + edge.label + "\\n(" + edge.rule + ")" + usage
            lines.append("  \(quoted(edge.workloads)) -> \(quoted(edge.location)) [label=\(quoted(label))\(style)];")
        }
        for workload in Set(observed.map(\.workload)).sorted() where !workloads.contains(workload) {
            lines.append("  \(quoted(workload)) [style=\"rounded,filled\", fillcolor=lightblue];")
        }
        for server in Set(observed.map(\.audience)).sorted() where !servers.contains(server) {
            lines.append("  \(quoted(server)) [shape=cylinder];")
        }
        for edge in observed {
            let refusedOnly = edge.allowed == 0
            let style = refusedOnly ? "color=red, fontcolor=red, penwidth=2" : "color=blue, fontcolor=blue"
            let label = "observed: \(edge.allowed) allowed, \(edge.refused) refused"
            lines.append("  \(quoted(edge.workload)) -> \(quoted(edge.audience)) [label=\(quoted(label)), \(style)];")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingQuotes() + "\""
    }
}

extension String {
    /// Escapes double quotes for DOT (backslash sequences such as `\n` are kept as DOT line breaks).
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" { result += "\\\"" } else { result.append(character) }
        }
        return result
    }
}
