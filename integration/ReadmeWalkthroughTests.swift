import Foundation
import Testing

/// The README's walk-through ("Trying the broker"), run top to bottom as a new user would, against a real
/// broker: every shell block of that section, in order, with only the broker's addresses and the `writ` path
/// changed to this test's.
@Suite("The README walk-through", .timeLimit(.minutes(3)))
struct ReadmeWalkthroughTests {
    static var readme: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
    }

    /// The shell blocks between two headings of the README.
    static func blocks(from start: String, to end: String) throws -> [String] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex)
        else { throw Failure(description: "the README has no section \(start)") }
        var blocks: [String] = []
        var current: [Substring]?
        for line in text[from.upperBound..<to.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @Test("every command of 'Trying the broker' works in order on a fresh broker")
    func walkThrough() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        do {
            try await Self.walk(broker)
        } catch {
            try? await broker.stop()
            throw error
        }
        try await broker.stop()
    }

    static func walk(_ broker: BrokerProcess) async throws {
        // The walk runs where `.writ` is the broker's state directory, as after `make run`.
        let workspace = broker.stateDirectory.appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: workspace.appendingPathComponent(".writ"),
            withDestinationURL: broker.stateDirectory.appendingPathComponent("state")
        )
        let blocks = try Self.blocks(from: "## Trying the broker", to: "## Operating it from the terminal")
        #expect(blocks.count >= 3)
        let script = (["set -euo pipefail"] + blocks).joined(separator: "\n")
            .replacingOccurrences(of: ".build/debug/writ", with: BrokerProcess.executable.path)
            .replacingOccurrences(of: "http://127.0.0.1:8080", with: broker.baseURL)
            .replacingOccurrences(of: "https://127.0.0.1:8443", with: "https://127.0.0.1:\(broker.tlsPort)")
        let output = workspace.appendingPathComponent("walk.log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = workspace
        var environment = ProcessInfo.processInfo.environment
        environment["WRIT_BROKER"] = broker.baseURL
        environment.removeValue(forKey: "WRIT_OPERATOR_TOKEN")
        environment.removeValue(forKey: "WRIT_OPERATOR_TOKEN_FILE")
        process.environment = environment
        let log = try FileHandle(forWritingTo: output)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        try log.close()
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "the walk-through failed:\n\(text)")
        #expect(text.contains("\"access_token\""), "no token was issued:\n\(text)")
        #expect(text.contains("not_covered") || text.contains("\"reasons\""), "the forbidden task was not refused")
        #expect(text.contains("\"kind\":\"task\""), "the feed does not show the completed task")
        #expect(text.contains("status list: revoked"), "the status list does not show the token revoked:\n\(text)")
        #expect(text.contains("x509-svid"), "the mutual-TLS task was not created:\n\(text)")
        #expect(text.contains("lifted entry"), "the revocation was not lifted:\n\(text)")
    }
}
