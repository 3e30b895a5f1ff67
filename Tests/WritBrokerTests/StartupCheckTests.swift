import Foundation
import NIOCore
import NIOPosix
import Testing
import WritBroker

#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory with a copy of nothing but what a test puts there.
struct StartupScratch {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("writ-start-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// A policy directory with one rule-less file.
    func policies() throws -> String {
        let directory = root.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "rules: []\n".write(to: directory.appendingPathComponent("empty.yaml"), atomically: true, encoding: .utf8)
        return directory.path
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite("writ serve checks its configuration before it writes anything")
struct StartupCheckTests {
    static func configuration(
        _ scratch: StartupScratch,
        _ environment: [String: String] = [:]
    ) throws -> BrokerConfiguration {
        var base = ["WRIT_STATE_DIR": scratch.path("state"), "WRIT_POLICIES": try scratch.policies()]
        base["WRIT_LISTEN"] = "127.0.0.1:0"
        base["WRIT_TLS_LISTEN"] = "off"
        for (name, value) in environment { base[name] = value }
        return try BrokerConfiguration.load(file: nil, environment: base)
    }

    static func problem(_ configuration: BrokerConfiguration) async -> BrokerConfiguration.Problem? {
        do {
            try await StartupCheck.run(configuration)
            return nil
        } catch {
            return error
        }
    }

    @Test("a usable configuration passes and nothing is created")
    func passes() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        let configuration = try Self.configuration(scratch)
        #expect(await Self.problem(configuration) == nil)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("state")))
    }

    @Test(
        "development identities on a non-loopback address are refused unless explicitly allowed",
        arguments: [
            (["WRIT_LISTEN": "0.0.0.0:0"], "listen 0.0.0.0:0 (WRIT_LISTEN)"),
            (["WRIT_TLS_LISTEN": "0.0.0.0:0"], "tls.listen 0.0.0.0:0 (WRIT_TLS_LISTEN)"),
            (["WRIT_LISTEN": "[::]:0"], "listen [::]:0 (WRIT_LISTEN)"),
        ]
    )
    func publicDevelopment(environment: [String: String], named: String) async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        let refused = await Self.problem(try Self.configuration(scratch, environment))
        #expect(refused?.code == "public_development")
        #expect(refused?.message.contains(named) == true, "\(String(describing: refused))")
        #expect(refused?.message.contains("--allow-public-development") == true)
        // The environment variable and the flag both allow it.
        let allowed = try Self.configuration(
            scratch,
            environment.merging(["WRIT_ALLOW_PUBLIC_DEVELOPMENT": "1"]) { $1 }
        )
        #expect(await Self.problem(allowed)?.code != "public_development")
        var flagged = try Self.configuration(scratch, environment)
        var overrides = BrokerConfiguration.Overrides()
        overrides.allowPublicDevelopment = true
        flagged.apply(overrides: overrides)
        #expect(await Self.problem(flagged)?.code != "public_development")
    }

    @Test("a non-loopback address with development off needs no permission")
    func publicProduction() throws {
        var configuration = try BrokerConfiguration.parse(
            yaml: "listen: 0.0.0.0:9000\nworkload_issuers: [{ kind: jwt-svid, trust_domain: a, jwks_file: /x }]"
        )
        try configuration.apply(environment: [:])
        #expect(throws: Never.self) { try StartupCheck.checkPublicDevelopment(configuration) }
    }

    @Test("a state directory that is a file, or under one, is refused")
    func stateDirectoryIsAFile() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        FileManager.default.createFile(atPath: scratch.path("file"), contents: Data("x".utf8))
        for path in [scratch.path("file"), scratch.path("file") + "/state"] {
            let problem = await Self.problem(try Self.configuration(scratch, ["WRIT_STATE_DIR": path]))
            #expect(problem?.code == "state_dir_not_a_directory")
            #expect(problem?.message.contains("state_directory \(path) (WRIT_STATE_DIR)") == true)
        }
    }

    @Test("an unwritable state directory is refused", .enabled(if: getuid() != 0, "root can write anywhere"))
    func stateDirectoryUnwritable() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        let locked = scratch.path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: locked)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked) }
        let problem = await Self.problem(try Self.configuration(scratch, ["WRIT_STATE_DIR": locked + "/state"]))
        #expect(problem?.code == "state_dir_unwritable")
    }

    @Test("a missing policy directory, an empty one and a broken one are refused with their codes")
    func policies() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        let missing = await Self.problem(try Self.configuration(scratch, ["WRIT_POLICIES": scratch.path("nowhere")]))
        #expect(missing?.code == "policies_missing")
        try FileManager.default.createDirectory(atPath: scratch.path("empty"), withIntermediateDirectories: true)
        let empty = await Self.problem(try Self.configuration(scratch, ["WRIT_POLICIES": scratch.path("empty")]))
        #expect(empty?.code == "no_policies")
        #expect(empty?.message.contains("policies \(scratch.path("empty")) (WRIT_POLICIES)") == true)
        try "rules: [".write(toFile: scratch.path("empty") + "/broken.yaml", atomically: true, encoding: .utf8)
        let broken = await Self.problem(try Self.configuration(scratch, ["WRIT_POLICIES": scratch.path("empty")]))
        #expect(broken?.code == "invalid_policies")
    }

    @Test("a missing TLS certificate names its key")
    func tlsFiles() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        var configuration = try BrokerConfiguration.parse(
            yaml: """
                development: true
                tls: { listen: 127.0.0.1:0, certificate: \(scratch.path("missing.pem")), key: \(scratch.path("k.pem")) }
                """,
            file: "broker.yaml"
        )
        try configuration.apply(environment: [
            "WRIT_STATE_DIR": scratch.path("state"), "WRIT_POLICIES": try scratch.policies(),
        ])
        let problem = await Self.problem(configuration)
        #expect(problem?.code == "unreadable_file")
        #expect(
            problem?.message.contains("tls.certificate \(scratch.path("missing.pem")) (the file broker.yaml)") == true
        )
    }

    @Test("a port in use is found by binding it, and the message names the setting")
    func portInUse() async throws {
        let scratch = try StartupScratch()
        defer { scratch.remove() }
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(holder.localAddress?.port)
        let taken = await Self.problem(try Self.configuration(scratch, ["WRIT_LISTEN": "127.0.0.1:\(port)"]))
        #expect(taken?.code == "listen_address_in_use")
        #expect(taken?.message.contains("listen 127.0.0.1:\(port) (WRIT_LISTEN)") == true)
        let tls = await Self.problem(try Self.configuration(scratch, ["WRIT_TLS_LISTEN": "127.0.0.1:\(port)"]))
        #expect(tls?.code == "listen_address_in_use")
        #expect(tls?.message.contains("--tls-listen") == true)
        try await holder.close()
        // Released by the check itself: the same port passes once free, and can be bound again.
        #expect(await Self.problem(try Self.configuration(scratch, ["WRIT_LISTEN": "127.0.0.1:\(port)"])) == nil)
        let again = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: port).get()
        try await again.close()
    }

    @Test(
        "bind failures become codes that say what to do",
        arguments: [
            (EADDRINUSE, "listen_address_in_use", "another port"),
            (EACCES, "listen_permission_denied", "ports below 1024 need privileges"),
            (EADDRNOTAVAIL, "listen_address_unavailable", "does not have"),
        ]
    )
    func bindErrors(errno: Int32, code: String, advice: String) throws {
        var configuration = try BrokerConfiguration.load(file: nil, environment: ["WRIT_LISTEN": "127.0.0.1:80"])
        configuration.origins["listen"] = "--listen"
        let problem = StartupCheck.listenProblem(
            IOError(errnoCode: errno, reason: "bind"),
            key: "listen",
            value: "127.0.0.1:80",
            configuration: configuration
        )
        #expect(problem.code == code)
        #expect(problem.message.contains("listen 127.0.0.1:80 (--listen)"))
        #expect(problem.message.contains(advice))
    }
}
