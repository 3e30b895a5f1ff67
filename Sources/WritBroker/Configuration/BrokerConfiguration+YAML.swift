import Foundation
import Yams

extension BrokerConfiguration {
    /// Reads a YAML document (or JSON, which is YAML too); `file` names it in origins and messages.
    ///
    /// Every unknown key, value of the wrong type and missing required key in the document is reported in one
    /// problem, each with its key path, line and column, and an unknown key with the allowed key it most likely
    /// meant. The problem's code is `unknown_key` when any key is unknown, else `config_type_mismatch`.
    public static func parse(yaml text: String, file: String? = nil) throws(Problem) -> BrokerConfiguration {
        let place = file.map { "the file \($0)" } ?? "the configuration file"
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw Problem(
                code: "invalid_yaml",
                message: "\(place) is not valid YAML\(yamlPosition(error)); fix it there"
            )
        }
        let report = StrictDecodingReport()
        let defaults = fileDefaults()
        let root = document.flatMap { $0.null == nil ? laid($0, over: defaults) : nil } ?? defaults
        // Decoding throws only past a mistake it has recorded and cannot step over; the findings say what it was.
        let decoded = try? StrictDecoder.decode(BrokerConfiguration.self, from: root, into: report)
        let findings = report.findings
        guard var configuration = decoded, findings.isEmpty else {
            throw findings.isEmpty
                ? Problem(code: "config_type_mismatch", message: "\(place) cannot be read; correct it there")
                : problem(findings, in: place)
        }
        for path in document.map({ keyPaths(in: $0) }) ?? [] { configuration.origins[path] = place }
        return configuration
    }

    /// What a file starts from: the embedded defaults, but with the development identities and the mutual-TLS
    /// listener off, which a file must turn on. As a tree, from the types' own initial values, so that a key the
    /// file leaves out keeps its default without a decoder written out per type.
    private static func fileDefaults() -> Node {
        var defaults = BrokerConfiguration()
        defaults.development = false
        defaults.tls = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            guard let node = try Yams.compose(yaml: String(decoding: try encoder.encode(defaults), as: UTF8.self))
            else { preconditionFailure("the configuration defaults encode to an empty document") }
            return node
        } catch {
            preconditionFailure("the configuration defaults do not encode: \(error)")
        }
    }

    /// The file's tree laid over the defaults: a mapping merges key by key, anything else (a list, a value) replaces
    /// the default, and an empty value keeps it — as if the key were left out.
    private static func laid(_ file: Node, over defaults: Node) -> Node {
        guard let mapping = file.mapping, let fallback = defaults.mapping else { return file }
        var pairs: [(Node, Node)] = mapping.map { key, value in
            guard let inherited = fallback.first(where: { $0.key.string == key.string })?.value else {
                return (key, value)
            }
            return (key, value.null != nil ? inherited : laid(value, over: inherited))
        }
        for (key, value) in fallback where !mapping.contains(where: { $0.key.string == key.string }) {
            pairs.append((key, value))
        }
        return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
    }

    /// Every key path the file sets, for ``origins``.
    private static func keyPaths(in node: Node, under prefix: String = "") -> [String] {
        if let mapping = node.mapping {
            return mapping.flatMap { key, value in
                let path = prefix.isEmpty ? key.string ?? "?" : "\(prefix).\(key.string ?? "?")"
                return [path] + keyPaths(in: value, under: path)
            }
        }
        return (node.sequence.map(Array.init) ?? []).enumerated().flatMap { index, item in
            keyPaths(in: item, under: "\(prefix)[\(index)]")
        }
    }

    /// The findings as one problem: one sentence for one finding, else a list with each finding's code.
    private static func problem(_ findings: [StrictDecodingReport.Finding], in place: String) -> Problem {
        let code = findings.contains { $0.code == "unknown_key" } ? "unknown_key" : "config_type_mismatch"
        guard findings.count > 1 else {
            return Problem(code: code, message: "\(findings[0].clause) in \(place); \(findings[0].advice)")
        }
        let lines = findings.map { "\n  \($0.code): \($0.clause)" }
        return Problem(
            code: code,
            message: "\(place) has \(findings.count) mistakes; correct each there (docs/operations.md lists every "
                + "key):" + lines.joined()
        )
    }

    private static func yamlPosition(_ error: any Error) -> String {
        switch error as? YamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            " (\(problem) at line \(mark.line), column \(mark.column))"
        default: ""
        }
    }
}
