import Foundation
import Testing
import WritPolicy
import WritToken

/// Runs every policy fuzzing seed (and any input added after a finding) through the loaders the fuzzer drives.
@Suite("policy fuzzing corpus regressions")
struct PolicyFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting/Corpus/Policy")

    static var inputs: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return names.sorted().map { corpus.appendingPathComponent($0).path }
    }

    @Test("policy seeds load, or fail with located diagnostics", arguments: inputs)
    func seed(path: String) throws {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        switch PolicyLoader.load(sources: [("seed.yaml", text)]) {
        case .success(let policies):
            #expect(!SegmentationGraph(policies: policies).dot.isEmpty)
        case .failure(let errors):
            #expect(errors.diagnostics.allSatisfy { $0.location.file == "seed.yaml" && $0.location.line >= 1 })
        }
        _ = try? PolicyTestRunner.tests(in: text, file: "seed.yaml")
    }

    @Test("the corpus holds the example policies")
    func present() {
        #expect(Self.inputs.count >= 4)
    }
}
