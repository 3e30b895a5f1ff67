import Foundation
import Testing
import WritTestSupport
import WritToken

/// Runs the built `writ` binary, so exit codes are checked as a shell sees them.
@Suite("the writ executable")
struct ExecutableTests {
    static var binary: URL {
        // The test runner sits next to the executables in the build products folder.
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("writ")
    }

    static func run(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("keys generate, then verify: exit 0 for a valid token, 1 for a rejected one")
    func endToEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-exe-\(UUID().uuidString)")
        let (generated, text) = try Self.run(["keys", "generate", "--out", directory.path, "--kid", "k1"])
        #expect(generated == 0, "\(text)")
        let pem = try String(contentsOfFile: directory.appendingPathComponent("signing-key.pem").path, encoding: .utf8)
        let key = SigningKey(id: "k1", privateKey: try PrivateKey(pemRepresentation: pem))
        let token = try AccessToken.sign(TestIdentity.claims(), with: key)
        let common = [
            "verify", "--jwks", directory.appendingPathComponent("jwks.json").path, "--issuer", TestIdentity.issuer,
            "--audience", TestIdentity.audience, "--at", "1800000000",
        ]
        let (valid, validText) = try Self.run(common + ["-"], input: token)
        #expect(valid == 0)
        #expect(validText.hasPrefix("valid"))
        let (rejected, rejectedText) = try Self.run(common + ["--audience", "https://other.writ.test", token])
        #expect(rejected == 1)
        #expect(rejectedText.hasPrefix("rejected: wrong_audience"))
    }
}
