import Foundation
import Yams

extension BrokerConfiguration {
    /// Reads a YAML document, refusing unknown keys; `file` names it in origins and messages.
    public static func parse(yaml text: String, file: String? = nil) throws(Problem) -> BrokerConfiguration {
        let place = file.map { "the file \($0)" } ?? "the configuration file"
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Problem(
                code: "invalid_yaml",
                message: "\(place) is not valid YAML\(yamlPosition(error)); fix it there"
            )
        }
        guard let node else {
            var empty = BrokerConfiguration()
            empty.development = false
            return empty
        }
        try checkKeys(node, allowed: Set(CodingKeys.allCases.map(\.rawValue)), at: "")
        var origins: [String: String] = [:]
        if let mapping = node.mapping {
            let sections: [String: Set<String>] = [
                "tokens": Set(Tokens.CodingKeys.allCases.map(\.rawValue)),
                "limits": Set(Limits.CodingKeys.allCases.map(\.rawValue)),
                "maintenance": Set(Maintenance.CodingKeys.allCases.map(\.rawValue)),
                "tls": Set(TLS.CodingKeys.allCases.map(\.rawValue)),
                "forwarded_certificate": Set(ForwardedCertificate.CodingKeys.allCases.map(\.rawValue)),
            ]
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                origins[name] = place
                if let allowed = sections[name] {
                    try checkKeys(value, allowed: allowed, at: name + ".")
                    for child in value.mapping?.keys.compactMap(\.string) ?? [] { origins[name + "." + child] = place }
                }
                if name == "trust_bundles" {
                    for (index, entry) in (value.sequence ?? []).enumerated() {
                        try checkKeys(
                            entry,
                            allowed: Set(Bundle.CodingKeys.allCases.map(\.rawValue)),
                            at: "\(name)[\(index)]."
                        )
                    }
                }
                if name == "resource_servers" {
                    for (index, entry) in (value.sequence ?? []).enumerated() {
                        try checkKeys(
                            entry,
                            allowed: Set(ResourceServerEntry.CodingKeys.allCases.map(\.rawValue)),
                            at: "\(name)[\(index)]."
                        )
                    }
                }
                if name == "workload_issuers" || name == "user_issuers" {
                    for (index, entry) in (value.sequence ?? []).enumerated() {
                        try checkKeys(
                            entry,
                            allowed: Set(Issuer.CodingKeys.allCases.map(\.rawValue)),
                            at: "\(name)[\(index)]."
                        )
                    }
                }
            }
        }
        var configuration: BrokerConfiguration
        do {
            configuration = try YAMLDecoder().decode(BrokerConfiguration.self, from: node)
        } catch let error as DecodingError {
            throw decodingProblem(error, in: node, place: place)
        } catch {
            throw Problem(code: "invalid_value", message: "\(place) cannot be read: \(error)")
        }
        configuration.origins = origins
        return configuration
    }

    private static func checkKeys(_ node: Node, allowed: Set<String>, at prefix: String) throws(Problem) {
        guard let mapping = node.mapping else { return }
        for key in mapping.keys {
            guard let name = key.string, allowed.contains(name) else {
                throw Problem(
                    code: "unknown_key",
                    message: "unknown key \(prefix)\(key.string ?? "?")\(position(key.mark)) in the configuration; "
                        + "check its spelling against docs/operations.md"
                )
            }
        }
    }

    /// A decoding error as one sentence: the key path, its line and column, and the type expected.
    static func decodingProblem(_ error: DecodingError, in root: Node, place: String) -> Problem {
        let path: [any CodingKey]
        let expected: String
        switch error {
        case .typeMismatch(let type, let context):
            (path, expected) = (context.codingPath, describe(type))
        case .valueNotFound(let type, let context):
            (path, expected) = (context.codingPath, describe(type))
        case .keyNotFound(let key, let context):
            return Problem(
                code: "config_type_mismatch",
                message: "\(keyPath(context.codingPath + [key])) is missing in \(place); add it"
            )
        case .dataCorrupted(let context):
            (path, expected) = (context.codingPath, "a different value")
        @unknown default:
            return Problem(code: "config_type_mismatch", message: "\(place) has a value of the wrong type")
        }
        let node = locate(path, in: root)
        let found = node?.scalar.map { " (found \"\($0.string)\")" } ?? (node?.sequence != nil ? " (found a list)" : "")
        return Problem(
            code: "config_type_mismatch",
            message: "\(keyPath(path))\(position(node?.mark)) in \(place) must be \(expected)\(found); "
                + "correct the value there"
        )
    }

    /// `tokens.default_lifetime`, `workload_issuers[0].kind`.
    private static func keyPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "the document" : text
    }

    /// The node a coding path points at, for its line and column.
    private static func locate(_ path: [any CodingKey], in root: Node) -> Node? {
        var node: Node? = root
        for key in path {
            if let index = key.intValue, let sequence = node?.sequence {
                node = sequence.indices.contains(index) ? sequence[index] : nil
            } else {
                node = node?.mapping?[key.stringValue]
            }
        }
        return node
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        case is [Issuer].Type, is [Bundle].Type, is [String].Type, is [ResourceServerEntry].Type: "a list"
        default: "a mapping of keys"
        }
    }

    private static func position(_ mark: Mark?) -> String {
        mark.map { " at line \($0.line), column \($0.column)" } ?? ""
    }

    private static func yamlPosition(_ error: any Error) -> String {
        switch error as? YamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            " (\(problem)\(position(mark)))"
        default: ""
        }
    }
}
