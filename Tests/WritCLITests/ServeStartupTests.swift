import Foundation
import Testing
import WritTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `writ` in a scratch directory with a clean environment (no WRIT_* of the caller, HOME in the
/// scratch directory), and kills it if it is still running after a deadline: a broker that starts when it should
/// have refused fails the test instead of hanging it.
struct ScratchWrit {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("writ-serve-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// A policy directory with one real rule.
    func policies() throws -> String {
        let directory = root.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "rules: []\n".write(to: directory.appendingPathComponent("deny.yaml"), atomically: true, encoding: .utf8)
        return directory.path
    }

    /// The status and combined output; `asNobody` runs it as another user through setpriv (for root test runs).
    func run(
        _ arguments: [String],
        environment extra: [String: String] = [:],
        asNobody: Bool = false,
        deadline: Duration = .seconds(20)
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments =
                ["--reuid=65534", "--regid=65534", "--clear-groups", ExecutableTests.binary.path] + arguments
        } else {
            process.executableURL = ExecutableTests.binary
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WRIT_") }
        environment["HOME"] = root.path
        for (name, value) in extra { environment[name] = value }
        process.environment = environment
        process.currentDirectoryURL = root
        let log = root.appendingPathComponent("output-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        let exit = try await ChildProcess.run(process, deadline: deadline)
        if exit.timedOut { Issue.record("writ \(arguments) was still running after \(deadline)") }
        return (exit.status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

}

/// A TCP port held open on loopback for the life of the value.
final class HeldPort {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { rebound in
                bind(descriptor, rebound, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, rebound, &length) == 0
            }
        }
        try #require(bound)
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite("writ serve refuses an unusable setup before writing anything", .serialized)
struct ServeStartupTests {
    /// One refusal: exit 2, the code, the setting named, nothing in the state directory.
    static func expectRefusal(
        _ writ: ScratchWrit,
        _ arguments: [String],
        environment: [String: String] = [:],
        asNobody: Bool = false,
        code: String,
        naming: [String]
    ) async throws {
        let state = writ.path("state")
        var base = ["WRIT_STATE_DIR": state, "WRIT_TLS_LISTEN": "off"]
        if environment["WRIT_LISTEN"] == nil, !arguments.contains("--listen") {
            base["WRIT_LISTEN"] = "127.0.0.1:\(try HeldPort.free())"
        }
        for (name, value) in environment { base[name] = value }
        let (status, output) = try await writ.run(["serve"] + arguments, environment: base, asNobody: asNobody)
        #expect(status == 2, "\(output)")
        #expect(output.contains("error: \(code): "), "\(output)")
        for name in naming { #expect(output.contains(name), "\(output) should name \(name)") }
        #expect(!output.contains("NSCocoaErrorDomain") && !output.contains("errno"), "\(output)")
        let flag = arguments.firstIndex(of: "--state-dir").map { arguments[$0 + 1] }
        let effective = flag ?? base["WRIT_STATE_DIR"] ?? state
        let written = (try? FileManager.default.contentsOfDirectory(atPath: effective)) ?? []
        #expect(written.isEmpty, "the refused start wrote \(written)")
        #expect(!FileManager.default.fileExists(atPath: state), "the state directory was created")
    }

    @Test("a port in use: listen_address_in_use, naming --listen, and no operator token written")
    func portInUse() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let held = try HeldPort()
        try await Self.expectRefusal(
            writ,
            ["--listen", "127.0.0.1:\(held.port)", "--policies", try writ.policies()],
            environment: ["WRIT_LISTEN": "127.0.0.1:1"],
            code: "listen_address_in_use",
            naming: ["listen 127.0.0.1:\(held.port) (--listen)"]
        )
        try await Self.expectRefusal(
            writ,
            ["--policies", try writ.policies()],
            environment: ["WRIT_TLS_LISTEN": "127.0.0.1:\(held.port)"],
            code: "listen_address_in_use",
            naming: ["tls.listen 127.0.0.1:\(held.port) (WRIT_TLS_LISTEN)"]
        )
    }

    @Test(
        "a privileged port: listen_permission_denied",
        .enabled(if: getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"))
    )
    func privilegedPort() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        // A state directory the unprivileged user may write, so the port is what fails.
        let open = writ.path("open-state")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open)
        try await Self.expectRefusal(
            writ,
            ["--policies", try writ.policies(), "--state-dir", open],
            environment: ["WRIT_LISTEN": "127.0.0.1:81"],
            asNobody: getuid() == 0,
            code: "listen_permission_denied",
            naming: ["listen 127.0.0.1:81 (WRIT_LISTEN)", "1024"]
        )
    }

    @Test(
        "an unwritable state directory: state_dir_unwritable",
        .enabled(if: getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"))
    )
    func unwritableState() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let locked = writ.path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
        try await Self.expectRefusal(
            writ,
            ["--state-dir", locked + "/state", "--policies", try writ.policies()],
            asNobody: getuid() == 0,
            code: "state_dir_unwritable",
            naming: ["state_directory \(locked)/state (--state-dir)"]
        )
        #expect(!FileManager.default.fileExists(atPath: locked + "/state"))
    }

    @Test("a state directory that is a file: state_dir_not_a_directory")
    func stateIsAFile() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        FileManager.default.createFile(atPath: writ.path("file"), contents: Data("x".utf8))
        try await Self.expectRefusal(
            writ,
            ["--policies", try writ.policies()],
            environment: ["WRIT_STATE_DIR": writ.path("file")],
            code: "state_dir_not_a_directory",
            naming: ["state_directory \(writ.path("file")) (WRIT_STATE_DIR)"]
        )
    }

    @Test("a missing certificate file: unreadable_file naming tls.certificate")
    func missingCertificate() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let config = writ.path("broker.yaml")
        try """
        development: true
        tls: { listen: 127.0.0.1:\(try HeldPort.free()), certificate: /nonexistent/tls.pem, key: /nonexistent/key.pem }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await Self.expectRefusal(
            writ,
            ["--config", config, "--policies", try writ.policies()],
            environment: ["WRIT_TLS_LISTEN": "127.0.0.1:\(try HeldPort.free())"],
            code: "unreadable_file",
            naming: ["tls.certificate /nonexistent/tls.pem (the file \(config))"]
        )
    }

    @Test("a type mismatch in the file: config_type_mismatch with key path, line and column")
    func typeMismatch() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let config = writ.path("broker.yaml")
        try "development: true\nlimits:\n  open_tasks: many\n".write(toFile: config, atomically: true, encoding: .utf8)
        try await Self.expectRefusal(
            writ,
            ["--config", config, "--policies", try writ.policies()],
            code: "config_type_mismatch",
            naming: ["limits.open_tasks at line 3, column 15", config, "a whole number"]
        )
    }

    @Test("an invalid log level: invalid_log_level, not a silent info")
    func logLevel() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        try await Self.expectRefusal(
            writ,
            ["--policies", try writ.policies()],
            environment: ["WRIT_LOG_LEVEL": "loud"],
            code: "invalid_log_level",
            naming: ["log_level loud (WRIT_LOG_LEVEL)", "warning"]
        )
    }

    @Test("an empty policy directory: no_policies; a missing one: policies_missing")
    func policies() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        try FileManager.default.createDirectory(atPath: writ.path("empty"), withIntermediateDirectories: true)
        try await Self.expectRefusal(
            writ,
            [],
            environment: ["WRIT_POLICIES": writ.path("empty")],
            code: "no_policies",
            naming: ["policies \(writ.path("empty")) (WRIT_POLICIES)"]
        )
        try await Self.expectRefusal(
            writ,
            ["--policies", writ.path("nowhere")],
            code: "policies_missing",
            naming: ["policies \(writ.path("nowhere")) (--policies)"]
        )
    }

    @Test("development identities on 0.0.0.0 are refused, and the refusal says how to allow them")
    func publicDevelopment() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let port = try HeldPort.free()
        try await Self.expectRefusal(
            writ,
            ["--policies", try writ.policies()],
            environment: ["WRIT_LISTEN": "0.0.0.0:\(port)"],
            code: "public_development",
            naming: ["listen 0.0.0.0:\(port) (WRIT_LISTEN)", "--allow-public-development"]
        )
        // Allowed explicitly, the next check runs instead (and refuses the state directory that is a file).
        FileManager.default.createFile(atPath: writ.path("file"), contents: Data("x".utf8))
        for allow in [["--allow-public-development"], []] {
            try await Self.expectRefusal(
                writ,
                ["--policies", try writ.policies()] + allow,
                environment: [
                    "WRIT_LISTEN": "0.0.0.0:\(port)", "WRIT_STATE_DIR": writ.path("file"),
                    "WRIT_ALLOW_PUBLIC_DEVELOPMENT": allow.isEmpty ? "true" : "false",
                ],
                code: "state_dir_not_a_directory",
                naming: []
            )
        }
    }

    @Test("serve --help documents the flags and their precedence, and shows no public development listener")
    func help() async throws {
        let writ = try ScratchWrit()
        defer { writ.remove() }
        let (status, text) = try await writ.run(["serve", "--help"])
        let output = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(status == 0)
        for flag in ["--listen", "--tls-listen", "--state-dir", "--policies", "--config", "--allow-public-development"]
        {
            #expect(output.contains(flag), "\(flag) missing from the help")
        }
        #expect(output.contains("a flag, a WRIT_* environment variable"))
        #expect(!output.contains("0.0.0.0"))
    }
}

extension HeldPort {
    /// A port nobody listens on now.
    static func free() throws -> Int { try HeldPort().port }
}
