public import Foundation
import WritToken

/// Reads policy files into a ``PolicySet``, all or nothing.
public enum PolicyLoader {
    /// The outcome of loading: a set, or every problem found.
    public typealias Outcome = Result<PolicySet, PolicyErrors>

    /// Every problem found in a policy directory.
    public struct PolicyErrors: Error, Sendable, CustomStringConvertible {
        /// The problems, by file and position.
        public let diagnostics: [PolicyDiagnostic]
        public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// The policy files of a directory: `*.yaml` and `*.yml` directly inside it, sorted.
    public static func files(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Loads every policy file in a directory. Either every file is valid and a new set results, or nothing
    /// is loaded and every problem is reported.
    public static func load(directory: URL) -> Outcome {
        let urls: [URL]
        do {
            urls = try files(in: directory)
        } catch {
            let location = SourceLocation(file: directory.relativePath, line: 1, column: 1)
            return .failure(PolicyErrors(diagnostics: [PolicyDiagnostic(location, "cannot read the policy directory")]))
        }
        var sources: [(String, String)] = []
        for url in urls {
            let name = directory.relativePath + "/" + url.lastPathComponent
            guard let data = FileManager.default.contents(atPath: url.path),
                let text = String(data: data, encoding: .utf8)
            else {
                let location = SourceLocation(file: name, line: 1, column: 1)
                return .failure(
                    PolicyErrors(diagnostics: [PolicyDiagnostic(location, "cannot read this file as UTF-8")])
                )
            }
            sources.append((name, text))
        }
        return load(sources: sources)
    }

    /// Loads policy documents given as (file name, text) pairs. Every problem of every file is reported, in file
    /// order; a rule with a problem is skipped and the next one read.
    public static func load(sources: [(file: String, text: String)]) -> Outcome {
        var rules: [Rule] = []
        var audiences: [Audience] = []
        var monitoring: [MonitoringRule] = []
        var diagnostics: [PolicyDiagnostic] = []
        for (file, text) in sources {
            var problems = DiagnosticList()
            let document = RuleReader.document(in: text, file: file, problems: &problems)
            rules.append(contentsOf: document.rules)
            audiences.append(contentsOf: document.audiences)
            monitoring.append(contentsOf: document.monitoring)
            // Reading order is not always line order (a missing key is noticed after the keys present).
            diagnostics += problems.diagnostics.enumerated().sorted { first, second in
                let (a, b) = (first.element.location, second.element.location)
                return (a.line, a.column, first.offset) < (b.line, b.column, second.offset)
            }.map(\.element)
        }
        var seen: [String: SourceLocation] = [:]
        for (id, location) in rules.map({ ($0.id, $0.location) }) + monitoring.map({ ($0.id, $0.location) }) {
            if let first = seen[id] {
                diagnostics.append(PolicyDiagnostic(location, "duplicate rule id '\(id)'; first defined at \(first)"))
            } else {
                seen[id] = location
            }
        }
        var declared: [String: Audience] = [:]
        for audience in audiences {
            if let first = declared[audience.location] {
                diagnostics.append(
                    PolicyDiagnostic(
                        audience.source,
                        "audience '\(audience.location)' is declared twice; first at \(first.source)"
                    )
                )
            } else {
                declared[audience.location] = audience
            }
        }
        guard diagnostics.isEmpty else { return .failure(PolicyErrors(diagnostics: diagnostics)) }
        return .success(PolicySet(rules: rules, audiences: audiences, monitoring: monitoring))
    }
}
