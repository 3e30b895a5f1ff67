import WritToken

extension ResourceRule {
    /// Whether this permit resource rule covers one action of a requested entry. Names compare by bytes.
    func covers(_ entry: AuthorizationDetail, action: String, context: TemplateContext) -> Bool {
        guard bytesEqual(type, entry.type), containsBytes(actions, action) else { return false }
        // Permit rules always name their resource servers; the entry must name only those.
        guard !entry.locations.isEmpty, entry.locations.allSatisfy({ containsBytes(locations, $0) }) else {
            return false
        }
        if !identifiers.isEmpty {
            guard let identifier = entry.identifier else { return false }
            let covered: Bool
            if let prefix = IdentifierSyntax.wildcardPrefix(identifier) {
                covered =
                    allowsWildcards
                    && identifiers.contains { $0.coversEverything(below: prefix, context: context) ?? false }
            } else {
                covered = identifiers.contains { $0.matches(identifier[...], context: context) ?? false }
            }
            guard covered else { return false }
        }
        if !datatypes.isEmpty {
            guard !entry.datatypes.isEmpty, entry.datatypes.allSatisfy({ containsBytes(datatypes, $0) }) else {
                return false
            }
        }
        return constraints.allSatisfy { $0.holds(for: entry.extensions[$0.field]) == true }
    }

    /// The actions of a requested entry this forbid resource rule catches. Whatever is unknown counts as a
    /// match, so a forbid fails closed.
    func forbids(_ entry: AuthorizationDetail, context: TemplateContext) -> [String] {
        guard bytesEqual(type, entry.type) else { return [] }
        let caught = actions.isEmpty ? entry.actions : entry.actions.filter { containsBytes(actions, $0) }
        guard !caught.isEmpty else { return [] }
        if !locations.isEmpty, !entry.locations.isEmpty,
            !entry.locations.contains(where: { containsBytes(locations, $0) })
        {
            return []
        }
        if !identifiers.isEmpty, let identifier = entry.identifier {
            // A template without a value counts as a match.
            let overlaps: Bool
            if let prefix = IdentifierSyntax.wildcardPrefix(identifier) {
                overlaps = identifiers.contains { $0.overlapsSomething(below: prefix, context: context) ?? true }
            } else {
                overlaps = identifiers.contains { $0.matches(identifier[...], context: context) ?? true }
            }
            if !overlaps { return [] }
        }
        if !datatypes.isEmpty, !entry.datatypes.isEmpty,
            !entry.datatypes.contains(where: { containsBytes(datatypes, $0) })
        {
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
            for action in resource.forbids(entry, context: context) where !containsBytes(caught, action) {
                caught.append(action)
            }
        }
        return caught
    }
}

extension AuthorizationDetail {
    /// Whether this granted entry contains one action of a requested entry: same type and type-specific
    /// members, the action granted, locations, identifier and datatypes within. Names compare by bytes.
    func contains(_ requested: AuthorizationDetail, action: String, sameWildcard: Bool = false) -> Bool {
        // Type-specific members compare by their bytes as written, never by Swift's canonical equivalence.
        guard bytesEqual(type, requested.type), containsBytes(actions, action),
            (extensions.isEmpty && requested.extensions.isEmpty)
                || JSONWriter.bytes(.object(extensions)) == JSONWriter.bytes(.object(requested.extensions))
        else { return false }
        if !locations.isEmpty {
            guard !requested.locations.isEmpty, requested.locations.allSatisfy({ containsBytes(locations, $0) })
            else { return false }
        }
        if let identifier {
            guard let wanted = requested.identifier,
                IdentifierSyntax.covers(identifier, wanted) || (sameWildcard && bytesEqual(identifier, wanted))
            else { return false }
        }
        if !datatypes.isEmpty {
            guard !requested.datatypes.isEmpty, requested.datatypes.allSatisfy({ containsBytes(datatypes, $0) })
            else { return false }
        }
        return true
    }
}
