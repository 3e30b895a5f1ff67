public import WritToken

/// What the broker's baselines say was used, set against the policies: which permits and resource entries
/// were used, which never were, and which workloads reached which resource servers (allowed or refused).
/// The comparison is loose on identifiers (a baseline keeps prefixes, and a template in a pattern matches any
/// value), so it answers "could this entry have allowed these uses", which is what a least-privilege review
/// needs.
public struct ObservedUsage: Sendable {
    /// The baselines compared.
    public let baselines: [UsageBaseline]
    /// Uses last seen before this second are left out.
    public let since: Int64

    /// Observed usage from baselines, counting uses seen since `since`.
    public init(baselines: [UsageBaseline], since: Int64) {
        self.baselines = baselines
        self.since = since
    }

    /// A workload's traffic to one resource server.
    public struct Edge: Sendable, Hashable {
        public var workload: String
        public var audience: String
        public var allowed: Int
        public var refused: Int
    }

    /// Every workload → resource server pair seen, with its allowed and refused uses.
    public var edges: [Edge] {
        var totals: [String: Edge] = [:]
        for baseline in baselines {
            for (use, seen) in baseline.uses where seen.lastSeen >= since {
                let key = baseline.workload + " " + use.audience
                var edge =
                    totals[key] ?? Edge(workload: baseline.workload, audience: use.audience, allowed: 0, refused: 0)
                edge.allowed += seen.allowed
                edge.refused += seen.refused
                totals[key] = edge
            }
        }
        return totals.values.sorted { ($0.workload, $0.audience) < ($1.workload, $1.audience) }
    }

    /// The baselines of the workloads and task types a rule names.
    public func baselines(of rule: Rule) -> [UsageBaseline] {
        baselines.filter { baseline in
            guard let workload = try? SPIFFEID(baseline.workload), rule.conditions.workload.names(workload) else {
                return false
            }
            let types = rule.conditions.task.types
            return types.isEmpty || types.contains(baseline.taskType)
        }
    }

    /// The allowed uses a rule's resource entry could have allowed at a location (nil: any), in the rule's
    /// baselines.
    public func allowedUses(of rule: Rule, _ resource: ResourceRule, at location: String?) -> Int {
        var count = 0
        for baseline in baselines(of: rule) {
            for (use, seen) in baseline.uses where seen.lastSeen >= since && seen.allowed > 0 {
                if let location, use.audience != location { continue }
                if Self.entry(resource, covers: use) { count += seen.allowed }
            }
        }
        return count
    }

    /// Whether a resource entry could allow a use: type, action, location, and an identifier pattern that
    /// could match at or below the use's prefix.
    static func entry(_ resource: ResourceRule, covers use: UsageBaseline.Use) -> Bool {
        guard resource.type == use.resourceType else { return false }
        if !resource.actions.isEmpty, !resource.actions.contains(use.action) { return false }
        if !resource.locations.isEmpty, !resource.locations.contains(use.audience) { return false }
        if resource.identifiers.isEmpty { return true }
        return resource.identifiers.contains { Self.pattern($0.source, reaches: use.prefix) }
    }

    /// Whether a pattern could match the prefix itself or an identifier below it; `*` matches within a
    /// segment, `**` the rest, and a template (`{user.department}`) any one segment's value.
    static func pattern(_ pattern: String, reaches prefix: String) -> Bool {
        let wanted = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let seen = prefix.isEmpty ? [] : prefix.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in seen.enumerated() {
            guard index < wanted.count else { return false }
            if wanted[index] == "**" { return true }
            if !glob(wanted[index], segment) { return false }
        }
        return wanted.count >= seen.count
    }

    /// Glob on one segment: `*` and templates match any run of characters.
    static func glob(_ pattern: Substring, _ text: Substring) -> Bool {
        var pieces: [Substring] = []
        var wildcard: [Bool] = []
        var rest = pattern[...]
        while !rest.isEmpty {
            if rest.first == "*" {
                pieces.append("")
                wildcard.append(true)
                rest = rest.dropFirst()
            } else if rest.first == "{", let close = rest.firstIndex(of: "}") {
                pieces.append("")
                wildcard.append(true)
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex { $0 == "*" || $0 == "{" } ?? rest.endIndex
                pieces.append(rest[..<end])
                wildcard.append(false)
                rest = rest[end...]
            }
        }
        return match(pieces[...], wildcard[...], text)
    }

    private static func match(_ pieces: ArraySlice<Substring>, _ wildcard: ArraySlice<Bool>, _ text: Substring) -> Bool
    {
        guard let first = pieces.first, let isWildcard = wildcard.first else { return text.isEmpty }
        if !isWildcard {
            guard text.hasPrefix(first) else { return false }
            return match(pieces.dropFirst(), wildcard.dropFirst(), text.dropFirst(first.count))
        }
        var suffix = text[...]
        while true {
            if match(pieces.dropFirst(), wildcard.dropFirst(), suffix) { return true }
            guard !suffix.isEmpty else { return false }
            suffix = suffix.dropFirst()
        }
    }
}

/// A least-privilege finding: a permit, or one of its resource entries, that no observed task used.
public struct UsageSuggestion: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// No task of the workloads and types the permit names was observed.
        case unusedRule = "unused_rule"
        /// Tasks were observed, but none used this entry.
        case unusedEntry = "unused_entry"
        /// Used: kept for the report's completeness.
        case used
    }

    public var rule: String
    public var location: SourceLocation
    public var kind: Kind
    /// The entry, as `read document departments/{user.department}/** at https://docs.example.org`.
    public var entry: String?
    /// Allowed uses the entry could have allowed.
    public var uses: Int
    /// Tasks observed for the permit's workloads and types.
    public var tasks: Int

    /// A line of the report.
    public var text: String {
        switch kind {
        case .unusedRule:
            return "\(location): permit \(rule): no task of its workloads and task types was observed; "
                + "candidate to remove"
        case .unusedEntry:
            return "\(location): permit \(rule): \(entry ?? "-") was never used by its \(tasks) observed tasks; "
                + "candidate to remove or narrow"
        case .used:
            return "\(location): permit \(rule): \(entry ?? "-") used \(uses) times by \(tasks) observed tasks"
        }
    }

    /// The findings for every permit of a policy set, in rule order.
    public static func report(policies: PolicySet, observed: ObservedUsage) -> [UsageSuggestion] {
        var findings: [UsageSuggestion] = []
        for rule in policies.rules where rule.effect == .permit {
            let baselines = observed.baselines(of: rule)
            let tasks = baselines.reduce(0) { $0 + $1.tasks }
            guard tasks > 0 else {
                findings.append(.init(rule: rule.id, location: rule.location, kind: .unusedRule, uses: 0, tasks: 0))
                continue
            }
            for resource in rule.resources {
                for location in resource.locations.isEmpty ? [nil] : resource.locations.map(Optional.some) {
                    let uses = observed.allowedUses(of: rule, resource, at: location)
                    findings.append(
                        .init(
                            rule: rule.id,
                            location: rule.location,
                            kind: uses == 0 ? .unusedEntry : .used,
                            entry: describe(resource, at: location),
                            uses: uses,
                            tasks: tasks
                        )
                    )
                }
            }
        }
        return findings
    }

    static func describe(_ resource: ResourceRule, at location: String?) -> String {
        let actions = resource.actions.isEmpty ? "any action on" : resource.actions.joined(separator: ", ")
        let identifiers =
            resource.identifiers.isEmpty ? "" : " " + resource.identifiers.map(\.source).joined(separator: " ")
        return "\(actions) \(resource.type)\(identifiers) at \(location ?? "any resource server")"
    }
}
