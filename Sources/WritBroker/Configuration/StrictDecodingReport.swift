import Yams

/// What a ``StrictDecoder`` found: the mappings it read with the keys their types asked for, and each mistake.
final class StrictDecodingReport {
    /// One mistake, where it is.
    struct Finding: Hashable, Sendable {
        enum Kind: Hashable, Sendable {
            /// A key no type asked for; `suggestion` is the closest allowed key's path.
            case unknownKey(suggestion: String?)
            /// A value that is not what its key holds.
            case wrongType(expected: String, found: String)
            /// A required key that is absent.
            case missing
        }
        let kind: Kind
        /// `tokens.maximum_lifetime`, `workload_issuers[0].kind`.
        let path: String
        let line: Int?
        let column: Int?

        /// The stable code of this kind of mistake.
        var code: String {
            if case .unknownKey = kind { return "unknown_key" }
            return "config_type_mismatch"
        }

        /// What to do about it, when it is the only one.
        var advice: String {
            switch kind {
            case .unknownKey: "check the spelling against docs/operations.md"
            case .wrongType: "correct the value there"
            case .missing: "add it there"
            }
        }

        /// The mistake as a clause: `unknown key limits.open_task at line 3, column 3 (did you mean …?)`.
        var clause: String {
            let place = line.map { " at line \($0), column \(column ?? 0)" } ?? ""
            switch kind {
            case .unknownKey(let suggestion):
                return "unknown key \(path)\(place)" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
            case .wrongType(let expected, let found):
                return "\(path)\(place) must be \(expected) (found \(found))"
            case .missing:
                return "\(path) is missing"
                    + (line.map { " from the mapping at line \($0), column \(column ?? 0)" } ?? "")
            }
        }
    }

    /// A mapping read by a keyed container, and the keys its type asked for, in the order of its declaration.
    private struct Watched {
        let path: [any CodingKey]
        let mapping: Node.Mapping
        var asked: [String] = []
    }

    private var watched: [Watched] = []
    private var mistakes: [Finding] = []

    /// Starts watching a mapping; returns its handle for ``ask(_:in:)``.
    func watch(_ mapping: Node.Mapping, at path: [any CodingKey]) -> Int {
        watched.append(Watched(path: path, mapping: mapping))
        return watched.count - 1
    }

    /// Records that the type decoding watched mapping `handle` asked for `key`: an allowed key.
    func ask(_ key: String, in handle: Int) {
        if !watched[handle].asked.contains(key) { watched[handle].asked.append(key) }
    }

    /// Records a mistake.
    func record(_ kind: Finding.Kind, at path: [any CodingKey], mark: Mark?) {
        mistakes.append(Finding(kind: kind, path: Self.render(path), line: mark?.line, column: mark?.column))
    }

    /// Every mistake, unknown keys included, in the order they appear in the document.
    var findings: [Finding] {
        var all = mistakes
        for entry in watched {
            for key in entry.mapping.keys where !entry.asked.contains(key.string ?? "") {
                let name = key.string ?? "?"
                let suggestion =
                    Self.closest(to: name, among: entry.asked).map { Self.render(entry.path, then: $0) }
                    ?? elsewhere(name, besides: entry)
                all.append(
                    Finding(
                        kind: .unknownKey(suggestion: suggestion),
                        path: Self.render(entry.path, then: name),
                        line: key.mark?.line,
                        column: key.mark?.column
                    )
                )
            }
        }
        return all.sorted { ($0.line ?? .max, $0.column ?? .max) < ($1.line ?? .max, $1.column ?? .max) }
    }

    /// The same key in another section (`max_connections` at the top for `limits.max_connections`).
    private func elsewhere(_ name: String, besides entry: Watched) -> String? {
        watched.first { $0.asked.contains(name) && Self.render($0.path) != Self.render(entry.path) }
            .map { Self.render($0.path, then: name) }
    }

    /// The allowed key nearest to `name` by edit distance, if near enough to be the one meant: within a third of
    /// the longer name's length (at least 2), so `tokns` finds `tokens` and `max_lifetime` finds `maximum_lifetime`,
    /// but `colour` finds nothing, and a one-letter key is not taken for another. Failing that, a key that begins
    /// with `name_` (`pem` for `pem_file`). Ties go to the key declared first.
    static func closest(to name: String, among candidates: [String]) -> String? {
        var best: (key: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(name, candidate)
            guard distance <= max(2, max(name.count, candidate.count) / 3),
                distance < min(name.count, candidate.count), distance < (best?.distance ?? .max)
            else { continue }
            best = (candidate, distance)
        }
        // A key's first word alone (`jwks`, `pem`) is nearer to no key than a third, but it means the longer one.
        return best?.key ?? candidates.first { $0.hasPrefix(name + "_") }
    }

    /// Levenshtein distance: insertions, deletions and substitutions of characters.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let left = Array(left)
        let right = Array(right)
        var previous = Array(0...right.count)
        for (i, character) in left.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: right.count)
            for (j, other) in right.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (character == other ? 0 : 1))
            }
            previous = current
        }
        return previous[right.count]
    }

    /// `tokens.maximum_lifetime`, `workload_issuers[0].kind`; the document itself when empty.
    static func render(_ path: [any CodingKey], then last: String? = nil) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        if let last { return text.isEmpty ? last : text + "." + last }
        return text.isEmpty ? "the document" : text
    }
}
