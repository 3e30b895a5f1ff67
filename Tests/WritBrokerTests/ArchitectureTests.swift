import Foundation
import Testing

/// Holds the broker's shape to docs/architecture.md: SQL and GRDB only in `Store/`, no file over 300 lines and
/// no function over 60 in `Sources/WritBroker`.
@Suite("The broker's architecture")
struct ArchitectureTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Every Swift file under a folder of `Sources`, by its path from `Sources`, with its lines.
    static func files(under folder: String) throws -> [(path: String, lines: [Substring])] {
        let root = sources.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        var found: [(String, [Substring])] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let path = String(url.path.dropFirst(sources.path.count + 1))
            found.append((path, text.split(separator: "\n", omittingEmptySubsequences: false)))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    @Test("SQL and GRDB appear only in Store/")
    func storageBoundary() throws {
        var leaks: [String] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: Self.sources.path) {
            for (path, lines) in try Self.files(under: folder) where !path.contains("/Store/") {
                if lines.contains(where: { $0.contains("sql:") || $0.contains("import GRDB") }) { leaks.append(path) }
            }
        }
        #expect(leaks == [])
    }

    @Test("no broker file is over 300 lines")
    func fileLength() throws {
        let long = try Self.files(under: "WritBroker").filter { $0.lines.count > 300 }.map(\.path)
        #expect(long == [])
    }

    @Test("no broker function is over 60 lines")
    func functionLength() throws {
        var long: [String] = []
        for (path, lines) in try Self.files(under: "WritBroker") {
            for (name, length) in Self.functions(in: lines) where length > 60 {
                long.append("\(path): \(name) (\(length) lines)")
            }
        }
        #expect(long == [])
    }

    @Test("the function measure finds a long function and its end")
    func functionMeasure() {
        let body = Array(repeating: "    let x = \"{\"", count: 61).map { Substring($0) }
        let lines: [Substring] = ["func long() {"] + body + ["}", "func short() { }"]
        let found = Self.functions(in: lines)
        #expect(found.map(\.name) == ["func long() {", "func short() { }"])
        #expect(found.map(\.lines) == [63, 1])
    }

    /// Each `func` or `init` declaration and its length in lines, from its first line to the line that closes
    /// its body; braces inside string literals on one line are skipped.
    static func functions(in lines: [Substring]) -> [(name: String, lines: Int)] {
        var found: [(String, Int)] = []
        for (start, line) in lines.enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.hasPrefix("//"), declaresFunction(text) else { continue }
            var depth = 0
            var opened = false
            for index in start..<min(lines.count, start + 2000) {
                for character in Self.code(lines[index]) {
                    if character == "{" {
                        depth += 1
                        opened = true
                    }
                    if character == "}" { depth -= 1 }
                }
                if opened && depth <= 0 {
                    found.append((text, index - start + 1))
                    break
                }
                // A requirement in a protocol has no body.
                if !opened && index > start + 15 { break }
            }
        }
        return found
    }

    static func declaresFunction(_ text: String) -> Bool {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "<" })
        return words.contains("func") || words.contains("init") || words.contains("init?")
    }

    /// A line without what is inside one-line string literals.
    static func code(_ line: Substring) -> String {
        var kept = ""
        var inString = false
        var previous: Character = " "
        for character in line {
            if character == "\"" && previous != "\\" { inString.toggle() } else if !inString { kept.append(character) }
            previous = character
        }
        return kept
    }
}
