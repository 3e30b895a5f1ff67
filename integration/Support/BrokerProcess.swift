import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WritBroker
import WritTestSupport
import WritToken

#if canImport(Glibc)
import Glibc
#endif

/// A real `writ serve` process on loopback, with its own state directory, for tests that need the broker
/// as users run it. Everything waits by polling, never by blocking a thread.
final class BrokerProcess: @unchecked Sendable {
    let stateDirectory: URL
    let port: Int
    /// The mutual-TLS listener's port.
    let tlsPort: Int
    let logFile: URL
    private var process: Process?

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The `writ` executable built beside the test bundle.
    static var executable: URL {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ].compactMap { $0 }
        for directory in candidates {
            let url = directory.appendingPathComponent("writ")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return URL(fileURLWithPath: ".build/debug/writ")
    }

    static var policies: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies")
    }

    init() throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        port = try Self.freePort()
        tlsPort = try Self.freePort()
        logFile = stateDirectory.appendingPathComponent("broker.log")
    }

    /// Starts the broker and waits until it answers `/healthz`.
    func start(environment extra: [String: String] = [:], configuration: String? = nil) async throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve"]
        if let configuration {
            let file = stateDirectory.appendingPathComponent("broker.yaml")
            try configuration.write(to: file, atomically: true, encoding: .utf8)
            process.arguments = ["serve", "--config", file.path]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["WRIT_LISTEN"] = "127.0.0.1:\(port)"
        environment["WRIT_TLS_LISTEN"] = "127.0.0.1:\(tlsPort)"
        environment["WRIT_STATE_DIR"] = stateDirectory.appendingPathComponent("state").path
        environment["WRIT_POLICIES"] = Self.policies.path
        environment["WRIT_LOG_LEVEL"] = "warning"
        for (name, value) in extra { environment[name] = value }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logFile.path) {
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw BrokerError(
                    .internalError,
                    "the broker exited: \(String(describing: try? String(contentsOf: logFile, encoding: .utf8)))"
                )
            }
            if Self.accepts(port: port), Self.accepts(port: tlsPort) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BrokerError(.internalError, "the broker did not become ready")
    }

    /// Kills the broker with SIGKILL and waits until it is gone.
    func kill9() async throws {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        self.process = nil
    }

    /// Stops the broker with SIGTERM, waits until it is gone, and returns its exit status.
    @discardableResult
    func stop() async throws -> Int32? {
        guard let process else { return nil }
        process.terminate()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        self.process = nil
        return process.terminationStatus
    }

    /// The running broker's process id.
    var processIdentifier: Int32? { process?.processIdentifier }

    /// Kills the broker if it still runs (a test that failed before stopping it) and removes the state directory.
    func remove() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            // Brief: a killed process is reaped at once.
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stateDirectory)
    }

    var state: StateDirectory { StateDirectory(path: stateDirectory.appendingPathComponent("state").path) }

    /// The first operator's token.
    func operatorToken() throws -> String {
        try String(contentsOf: state.operatorToken, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A JWT-SVID for a workload of the development trust domain.
    func workloadAssertion(_ id: String) throws -> String {
        try DevelopmentIdentity.workloadAssertion(
            for: try SPIFFEID(id),
            audience: "writ",
            key: try state.developmentKey(named: DevelopmentIdentity.workloadKeyName),
            now: Date()
        )
    }

    /// Whether something accepts TCP connections on the port (a plain connect, so no client retries).
    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { rebound in
                connect(descriptor, rebound, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A port nobody listens on now.
    static func freePort() throws -> Int {
        try LoopbackPort.free()
    }
}

/// Minimal JSON over HTTP for the integration tests. It owns its HTTP client, so shutting it down fails
/// every request in flight at once (a shared client would keep retrying a dead broker until each deadline).
struct BrokerClient: Sendable {
    let baseURL: String
    let http: HTTPClient

    init(baseURL: String) {
        self.baseURL = baseURL
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        self.http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
    }

    /// Ends the client; requests in flight fail.
    func shutdown() async { try? await http.shutdown() }

    struct Reply: Sendable {
        let status: UInt
        let body: JSONValue
    }

    /// RFC 8693 at the token endpoint: a DPoP-bound token for an open task, with a fresh proof from `key`.
    func token(
        task: String,
        actor: String,
        audience: String = "https://git.example.org",
        key: PrivateKey = .generate(.es256)
    ) async throws -> Reply {
        let proof = try DPoPProof.create(method: "POST", url: baseURL + "/v1/token", key: key, issuedAt: Date())
        return try await send(
            .POST,
            "/v1/token",
            form: [
                ("grant_type", TokenRequest.grantType), ("actor_token", actor),
                ("actor_token_type", TokenRequest.jwtType), ("task_id", task), ("audience", audience),
            ],
            headers: [("DPoP", proof)]
        )
    }

    func send(
        _ method: HTTPMethod,
        _ path: String,
        bearer: String? = nil,
        json: String? = nil,
        form: [(String, String)]? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let text = form.map {
                "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
            }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: text))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 22)
        let text = String(buffer: body)
        let value = text.isEmpty ? JSONValue.null : ((try? StrictJSON().parse(text)) ?? .string(text))
        return Reply(status: response.status.code, body: value)
    }
}
