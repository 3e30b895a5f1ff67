import WritToken

extension ResourceRule {
    /// Whether this permit resource rule covers one action of a requested entry.
    func covers(_ entry: AuthorizationDetail, action: String, context: TemplateContext) -> Bool {
        guard type == entry.type, actions.contains(action) else { return false }
        // Permit rules always name their resource servers; the entry must name only those.
        guard !entry.locations.isEmpty, entry.locations.allSatisfy(locations.contains) else { return false }
        if let identifier = entry.identifier, identifier.hasSuffix("/*"), !allowsWildcards { return false }
        if !identifiers.isEmpty {
            guard let identifier = entry.identifier else { return false }
            let covered = identifiers.contains { pattern in
                if identifier.hasSuffix("/*") {
                    return pattern.coversEverything(below: identifier.dropLast(2), context: context) ?? false
                }
                return pattern.matches(identifier[...], context: context) ?? false
            }
            guard covered else { return false }
        }
        if !datatypes.isEmpty {
            guard !entry.datatypes.isEmpty, entry.datatypes.allSatisfy(datatypes.contains) else { return false }
        }
        return constraints.allSatisfy { $0.holds(for: entry.extensions[$0.field]) == true }
    }

    /// The actions of a requested entry this forbid resource rule catches. Whatever is unknown counts as a
    /// match, so a forbid fails closed.
    func forbids(_ entry: AuthorizationDetail, context: TemplateContext) -> [String] {
        guard type == entry.type else { return [] }
        let caught = actions.isEmpty ? entry.actions : entry.actions.filter(actions.contains)
        guard !caught.isEmpty else { return [] }
        if !locations.isEmpty, !entry.locations.isEmpty, !entry.locations.contains(where: locations.contains) {
            return []
        }
        if !identifiers.isEmpty, let identifier = entry.identifier {
            let overlaps = identifiers.contains { pattern in
                // A template without a value counts as a match, so a forbid fails closed.
                if identifier.hasSuffix("/*") {
                    return pattern.overlapsSomething(below: identifier.dropLast(2), context: context) ?? true
                }
                return pattern.matches(identifier[...], context: context) ?? true
            }
            if !overlaps { return [] }
        }
        if !datatypes.isEmpty, !entry.datatypes.isEmpty, !entry.datatypes.contains(where: datatypes.contains) {
            return []
        }
        guard constraints.allSatisfy({ $0.holds(for: entry.extensions[$0.field]) ?? true }) else { return [] }
        return caught
    }
}

extension Rule {
    /// The actions of an entry this forbid catches; a forbid without resources catches every action.
    func forbiddenActions(in entry: AuthorizationDetail, context: TemplateContext) -> [String] {
        guard !resources.isEmpty else { return entry.actions }
        var caught: [String] = []
        for resource in resources {
            for action in resource.forbids(entry, context: context) where !caught.contains(action) {
                caught.append(action)
            }
        }
        return caught
    }
}

extension AuthorizationDetail {
    /// Whether this granted entry contains one action of a requested entry: same type and extensions, the
    /// action granted, locations within, identifier within, datatypes within.
    func contains(_ requested: AuthorizationDetail, action: String) -> Bool {
        guard type == requested.type, actions.contains(action), extensions == requested.extensions else { return false }
        if !locations.isEmpty {
            guard !requested.locations.isEmpty, requested.locations.allSatisfy(locations.contains) else { return false }
        }
        if let identifier {
            guard let wanted = requested.identifier else { return false }
            if identifier.hasSuffix("/*") {
                let prefix = identifier.dropLast()
                guard wanted.hasPrefix(prefix), wanted.count > prefix.count else { return false }
            } else if identifier != wanted {
                return false
            }
        }
        if !datatypes.isEmpty {
            guard !requested.datatypes.isEmpty, requested.datatypes.allSatisfy(datatypes.contains) else { return false }
        }
        return true
    }
}
