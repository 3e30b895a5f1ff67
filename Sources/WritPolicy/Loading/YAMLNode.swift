import WritToken
import Yams

/// A YAML node with the file it came from, and readers that report file, line and column on every error.
struct YAMLNode {
    let node: Node
    let file: String

    var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func error(_ message: String) -> PolicyDiagnostic { PolicyDiagnostic(location, message) }

    /// Parses a document; anchors and aliases are refused, so no document can expand itself.
    static func parse(_ text: String, file: String) throws(PolicyDiagnostic) -> YAMLNode? {
        let node: Node?
        let parser: Parser
        do {
            // The parser holds the anchors; keep it alive while the tree is checked for them.
            parser = try Parser(yaml: text)
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw PolicyDiagnostic(Self.location(of: error, file: file), "not valid YAML: \(Self.summary(of: error))")
        } catch {
            throw PolicyDiagnostic(SourceLocation(file: file, line: 1, column: 1), "not valid YAML")
        }
        guard let node else { return nil }
        let root = YAMLNode(node: node, file: file)
        try withExtendedLifetime(parser) { () throws(PolicyDiagnostic) in try root.refuseAliases() }
        return root
    }

    private func refuseAliases() throws(PolicyDiagnostic) {
        switch node {
        case .alias: throw error("anchors and aliases are not allowed in policy files")
        case .scalar: if node.anchor != nil { throw error("anchors and aliases are not allowed in policy files") }
        case .mapping(let mapping):
            if mapping.anchor != nil { throw error("anchors and aliases are not allowed in policy files") }
            for (key, value) in mapping {
                try YAMLNode(node: key, file: file).refuseAliases()
                try YAMLNode(node: value, file: file).refuseAliases()
            }
        case .sequence(let sequence):
            if sequence.anchor != nil { throw error("anchors and aliases are not allowed in policy files") }
            for element in sequence { try YAMLNode(node: element, file: file).refuseAliases() }
        }
    }

    private static func location(of error: YamlError, file: String) -> SourceLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        default:
            return SourceLocation(file: file, line: 1, column: 1)
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }

    /// The members of a mapping, refusing keys outside `allowed` and duplicate keys.
    func mapping(allowed: [String], what: String) throws(PolicyDiagnostic) -> [String: YAMLNode] {
        guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping") }
        var members: [String: YAMLNode] = [:]
        for (key, value) in mapping {
            let keyNode = YAMLNode(node: key, file: file)
            guard case .scalar(let scalar) = key else { throw keyNode.error("keys must be plain names") }
            guard allowed.contains(scalar.string) else {
                throw keyNode.error(
                    "unknown key '\(scalar.string)' in \(what); expected one of: \(allowed.joined(separator: ", "))"
                )
            }
            guard members[scalar.string] == nil else { throw keyNode.error("duplicate key '\(scalar.string)'") }
            members[scalar.string] = YAMLNode(node: value, file: file)
        }
        return members
    }

    /// The members of a mapping, recording every key outside `allowed` and every duplicate key and leaving it
    /// out, so the known members are still read. Nil (with the problem recorded) when the node is not a mapping.
    /// With `allowed` nil, any plain key is kept (a map whose keys are values, such as scope values).
    func members(allowed: [String]?, what: String, problems: inout DiagnosticList) -> [String: YAMLNode]? {
        guard case .mapping(let mapping) = node else {
            problems.record(error("\(what) must be a mapping"))
            return nil
        }
        var members: [String: YAMLNode] = [:]
        for (key, value) in mapping {
            let keyNode = YAMLNode(node: key, file: file)
            guard case .scalar(let scalar) = key else {
                problems.record(keyNode.error("keys must be plain names"))
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                problems.record(
                    keyNode.error(
                        "unknown key '\(scalar.string)' in \(what); expected one of: \(allowed.joined(separator: ", "))"
                    )
                )
                continue
            }
            guard members[scalar.string] == nil else {
                problems.record(keyNode.error("duplicate key '\(scalar.string)'"))
                continue
            }
            members[scalar.string] = YAMLNode(node: value, file: file)
        }
        return members
    }

    /// A string scalar.
    func string(_ what: String) throws(PolicyDiagnostic) -> String {
        guard case .scalar(let scalar) = node else { throw error("\(what) must be a string") }
        return scalar.string
    }

    /// A non-empty string scalar.
    func nonEmptyString(_ what: String) throws(PolicyDiagnostic) -> String {
        let value = try string(what)
        guard !value.isEmpty else { throw error("\(what) must not be empty") }
        return value
    }

    /// A list of strings; a single string counts as a list of one.
    func strings(_ what: String) throws(PolicyDiagnostic) -> [String] {
        switch node {
        case .scalar(let scalar):
            guard !scalar.string.isEmpty else { throw error("\(what) must not be empty") }
            return [scalar.string]
        case .sequence(let sequence):
            var result: [String] = []
            for element in sequence {
                let item = YAMLNode(node: element, file: file)
                result.append(try item.nonEmptyString("each entry of \(what)"))
            }
            guard !result.isEmpty else { throw error("\(what) must not be an empty list") }
            return result
        default:
            throw error("\(what) must be a string or a list of strings")
        }
    }

    /// The elements of a sequence.
    func sequence(_ what: String) throws(PolicyDiagnostic) -> [YAMLNode] {
        guard case .sequence(let sequence) = node else { throw error("\(what) must be a list") }
        return sequence.map { YAMLNode(node: $0, file: file) }
    }

    /// A non-negative integer of at most a million (counts, depths and indices are small).
    func integer(_ what: String) throws(PolicyDiagnostic) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string), value >= 0, value <= 1_000_000 else {
            throw error("\(what) must be an integer from 0 to 1000000")
        }
        return value
    }

    /// A boolean.
    func bool(_ what: String) throws(PolicyDiagnostic) -> Bool {
        guard case .scalar(let scalar) = node else { throw error("\(what) must be true or false") }
        switch scalar.string {
        case "true": return true
        case "false": return false
        default: throw error("\(what) must be true or false")
        }
    }

    /// A number.
    func number(_ what: String) throws(PolicyDiagnostic) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            throw error("\(what) must be a number")
        }
        return value
    }

    /// A duration such as `90s`, `15m`, `2h`.
    func duration(_ what: String) throws(PolicyDiagnostic) -> Double {
        let text = try string(what)
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        guard let unit = text.last, let scale = units[unit], let value = Int(text.dropLast()), value > 0,
            Double(value) * scale <= 30 * 86_400
        else {
            throw error("\(what) must be a positive duration of at most 30 days, such as 90s, 15m or 2h")
        }
        return Double(value) * scale
    }

    /// A scalar as a JSON value: integers, numbers, booleans, strings.
    var jsonValue: JSONValue? {
        guard case .scalar(let scalar) = node else { return nil }
        if scalar.style == .plain {
            if let integer = Int64(scalar.string) { return .integer(integer) }
            if let double = Double(scalar.string), double.isFinite { return .double(double) }
            if scalar.string == "true" { return .bool(true) }
            if scalar.string == "false" { return .bool(false) }
        }
        return .string(scalar.string)
    }
}
