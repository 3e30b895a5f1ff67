import AsyncHTTPClient
import Foundation
import Testing
import WritTestSupport
import WritToken
import WritVerifier

/// Fetches a JWKS over real HTTP from a server the test starts on loopback (Python's http.server).
@Suite("fetching a JWKS over HTTP")
struct HTTPJWKSSourceTests {
    /// Python's http.server over a temporary folder. Nothing here blocks a thread: the port is read by
    /// polling the server's log file, and shutdown polls for the exit, so the cooperative pool keeps running.
    final class StaticServer {
        let process = Process()
        let directory: URL
        var port = 0

        init(files: [String: String]) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-jwks-\(UUID().uuidString)")
            let root = directory.appendingPathComponent("www")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            for (name, content) in files {
                try Data(content.utf8).write(to: root.appendingPathComponent(name))
            }
            let log = directory.appendingPathComponent("server.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root.path,
            ]
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Waits until the server has said which port it listens on.
        func start() async throws {
            let log = directory.appendingPathComponent("server.log")
            for _ in 0..<200 {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                // "Serving HTTP on 127.0.0.1 port 43123 (http://127.0.0.1:43123/) ..."
                if let range = text.range(of: "port "), let port = Int(text[range.upperBound...].prefix { $0.isNumber })
                {
                    self.port = port
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw CancellationError()
        }

        func stop() async {
            process.terminate()
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test("a remote key set loads from a URL, verifies with it, and a 404 keeps the previous keys")
    func remote() async throws {
        let forge = TokenForge()
        let jwks = try JSONWebKeySet(keys: [forge.key.verificationKey]).jsonString
        let server = try StaticServer(files: ["jwks.json": jwks])
        do {
            try await server.start()
            try await check(server: server, forge: forge)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func check(server: StaticServer, forge: TokenForge) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let keys = RemoteKeySet(
            source: HTTPJWKSSource(url: "http://127.0.0.1:\(server.port)/jwks.json", client: client),
            clock: FixedClock(TestIdentity.now)
        )
        try await keys.refresh()
        #expect(keys.key(id: forge.key.id) != nil)
        let verifier = TokenVerifier(
            configuration: .init(issuer: TestIdentity.issuer, audience: TestIdentity.audience),
            keys: keys,
            clock: FixedClock(TestIdentity.now)
        )
        _ = try verifier.verify(Presentation(authorization: "Bearer " + forge.token()))

        let missing = RemoteKeySet(
            source: HTTPJWKSSource(url: "http://127.0.0.1:\(server.port)/nowhere.json", client: client),
            clock: FixedClock(TestIdentity.now)
        )
        await #expect(throws: HTTPJWKSSource.FetchError.self) { try await missing.refresh() }
        #expect(missing.keySet.keys.isEmpty)
        try await client.shutdown()
    }
}
