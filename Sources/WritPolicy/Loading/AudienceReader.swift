import WritToken

/// Reads the `audiences` list of a policy document: per resource server, the implicit task's defaults and the
/// scope values it maps. Every problem is reported, as for rules.
enum AudienceReader {
    static let audienceKeys = ["location", "implicit_task", "scopes"]
    static let implicitTaskKeys = ["type", "purpose"]
    static let scopeKeys = ["type", "actions", "identifier"]

    /// The audiences of a document's `audiences` node; the ones with a problem are left out.
    static func audiences(_ list: YAMLNode, problems: inout DiagnosticList) -> [Audience] {
        guard let items = problems.read(list, { node throws(PolicyDiagnostic) in try node.sequence("audiences") })
        else { return [] }
        return items.compactMap { audience($0, problems: &problems) }
    }

    static func audience(_ node: YAMLNode, problems: inout DiagnosticList) -> Audience? {
        let start = problems.count
        guard let members = node.members(allowed: audienceKeys, what: "an audience", problems: &problems) else {
            return nil
        }
        let location = problems.read(members["location"]) { node throws(PolicyDiagnostic) in
            let text = try node.nonEmptyString("location")
            guard text.utf8.count <= 2048 else { throw node.error("location must be at most 2048 bytes") }
            return text
        }
        if members["location"] == nil, problems.count == start {
            problems.record(node.error("an audience needs a 'location': the resource server, as tokens name it"))
        }
        var taskType: String?
        var purpose: String?
        if let implicit = members["implicit_task"],
            let fields = implicit.members(allowed: implicitTaskKeys, what: "'implicit_task'", problems: &problems)
        {
            taskType = problems.read(fields["type"]) { node throws(PolicyDiagnostic) in
                let text = try node.nonEmptyString("type")
                guard text.utf8.count <= 128 else { throw node.error("type must be at most 128 bytes") }
                return text
            }
            purpose = problems.read(fields["purpose"]) { node throws(PolicyDiagnostic) in
                let text = try node.nonEmptyString("purpose")
                guard text.utf8.count <= 1024 else { throw node.error("purpose must be at most 1024 bytes") }
                return text
            }
            if fields["type"] == nil {
                problems.record(implicit.error("'implicit_task' needs a 'type': the task type its rules match"))
            }
        }
        var scopes: [String: ScopeMapping] = [:]
        if let scopeNode = members["scopes"],
            let entries = scopeNode.members(allowed: nil, what: "'scopes'", problems: &problems)
        {
            for (value, entry) in entries.sorted(by: { $0.key < $1.key }) {
                guard ScopeMapping.isScopeValue(value) else {
                    problems.record(
                        entry.error(
                            "'\(value.prefix(64))' is not a scope value: printable ASCII without spaces, quotes or backslashes"
                        )
                    )
                    continue
                }
                if let mapping = scope(entry, value: value, problems: &problems) { scopes[value] = mapping }
            }
        }
        if members["implicit_task"] == nil, members["scopes"] == nil, problems.count == start {
            problems.record(node.error("an audience declares nothing: give it 'implicit_task' or 'scopes'"))
        }
        guard problems.count == start, let location else { return nil }
        return Audience(
            location: location,
            implicitTaskType: taskType,
            implicitPurpose: purpose,
            scopes: scopes,
            source: node.location
        )
    }

    static func scope(_ node: YAMLNode, value: String, problems: inout DiagnosticList) -> ScopeMapping? {
        let start = problems.count
        guard let fields = node.members(allowed: scopeKeys, what: "scope '\(value)'", problems: &problems) else {
            return nil
        }
        let type = problems.read(fields["type"]) { node throws(PolicyDiagnostic) in try node.nonEmptyString("type") }
        let actions = problems.read(fields["actions"]) { node throws(PolicyDiagnostic) in try node.strings("actions") }
        let identifier = problems.read(fields["identifier"]) { node throws(PolicyDiagnostic) in
            let text = try node.nonEmptyString("identifier")
            guard PolicySet.isWellFormed(text) else {
                throw node.error(
                    "identifier '\(text.prefix(64))' is not a resource or a prefix/*: plain segments only (no empty, ., .. or *)"
                )
            }
            return text
        }
        if fields["type"] == nil { problems.record(node.error("scope '\(value)' needs a 'type'")) }
        if fields["actions"] == nil { problems.record(node.error("scope '\(value)' needs 'actions'")) }
        guard problems.count == start, let type, let actions else { return nil }
        return ScopeMapping(type: type, actions: actions, identifier: identifier)
    }
}
