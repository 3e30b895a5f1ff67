import Foundation
import Testing

/// The example services end cleanly when asked to: SIGTERM is a graceful shutdown, not a crash.
@Suite("Example services shut down", .serialized, .timeLimit(.minutes(2)))
struct ExampleShutdownTests {
    @Test("the documents service exits 0 on SIGTERM, with no fatal error, whether or not its broker is up")
    func documentsServiceExitsCleanly() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start()
        // Once with the broker up (the key set and the feed stream are live), once with it gone (both are
        // in their retry pauses): either way SIGTERM must end the service cleanly.
        for brokerUp in [true, false] {
            if !brokerUp { try await broker.stop() }
            let log = broker.stateDirectory.appendingPathComponent("docs-\(brokerUp ? "up" : "down").log")
            let documents = try EndToEndTests.DocumentsProcess(broker: broker, staleness: 3, log: log)
            try await documents.ready()
            // Give the key set and the feed client time to load, stream or fail and start waiting.
            try await Task.sleep(for: .seconds(2))
            await documents.stop()
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(documents.process.terminationReason == .exit, "broker up: \(brokerUp); \(output)")
            #expect(documents.process.terminationStatus == 0, "broker up: \(brokerUp); \(output)")
            #expect(!output.contains("Fatal error"), "broker up: \(brokerUp); \(output)")
        }
    }
}
