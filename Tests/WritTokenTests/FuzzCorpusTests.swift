import Foundation
import Testing
import WritToken

/// Runs every fuzzing seed (and any input added after a finding) through the parsers the fuzzers drive.
@Suite("fuzzing corpus regressions")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting/Corpus")

    static func inputs(_ folder: String) -> [String] {
        let directory = corpus.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0).path }
    }

    @Test("the corpus has seeds for both fuzzers")
    func present() {
        #expect(Self.inputs("AccessToken").count >= 8)
        #expect(Self.inputs("DPoPProof").count >= 2)
    }

    @Test("access-token seeds parse or fail with a typed error", arguments: inputs("AccessToken"))
    func accessToken(path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let text = String(decoding: bytes, as: UTF8.self)
        var trail = VerificationTrail()
        #expect(throws: VerificationError.self) { try AccessToken.decodeVerified(text, trail: &trail) { _ in nil } }
        if path.contains("token-") {
            // Signed seeds decode, so the fuzzer reaches the claims through them.
            _ = try AccessToken.unverifiedClaims(text)
        }
        if let value = try? StrictJSON().parse(bytes) {
            #expect(try StrictJSON().parse(JSONWriter.bytes(value)) == value)
        }
    }

    @Test("proof seeds parse or fail with a typed error", arguments: inputs("DPoPProof"))
    func proof(path: String) throws {
        // Decoded as the fuzzer does: invalid UTF-8 is replaced, never refused.
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        if path.hasSuffix("proof-rfc9449") {
            _ = try DPoPProof.verify(
                text,
                method: "POST",
                url: "https://server.example.com/token",
                accessToken: String?.none,
                now: Date(timeIntervalSince1970: 1_562_262_616)
            )
        } else if let normal = HTTPURI.normalized(text) {
            #expect(HTTPURI.normalized(normal) == normal)
        }
    }
}
