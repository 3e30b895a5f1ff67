public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of the tests' own: a new cluster (`initdb`) in a temporary directory, listening on
/// loopback on a free port, with trust authentication for the user `writ`. ``stop()`` shuts it down and
/// removes its directory; a watchdog does the same if the test process ends without stopping it (a crash,
/// a failed test's early exit), so no server outlives the tests.
///
/// Tests share one server (``shared()``) and each makes its own database on it: a server is a second or two of
/// `initdb` and a few dozen MiB, a database a few milliseconds. Nothing here blocks a thread while PostgreSQL's
/// programs run (see ``ChildProcess``).
///
/// As root (CI), the server runs as the `postgres` user that Debian's `postgresql` package creates, since
/// PostgreSQL refuses to run as root.
public final class PostgreSQLServer: Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The cluster's directory (data, socket and log).
    public let directory: URL
    private let binaries: String
    private let asRoot: Bool
    /// The server's command-line options (port, socket directory, durability).
    private let options: String
    private let stopped = Mutex(false)

    /// The user every test connects as.
    public static let user = "writ"

    private init(port: Int, directory: URL, binaries: String, asRoot: Bool, options: String) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.asRoot = asRoot
        self.options = options
    }

    /// The server every test of this process shares, started when a test first asks for it. It stops when the
    /// process ends, however it ends.
    public static func shared() async throws -> PostgreSQLServer {
        try await SharedServer.instance.server()
    }

    /// Starts a new server; `durable: false` turns fsync off, which is faster and enough for tests that do not
    /// crash the machine.
    public static func start(durable: Bool = false) async throws -> PostgreSQLServer {
        let binaries = try Self.binaries()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = geteuid() == 0
        let data = directory.appendingPathComponent("data").path
        let server = Self.asServerUser(asRoot)
        do {
            if asRoot { try await Self.run(["/bin/chown", "postgres:postgres", directory.path]) }
            try await Self.run(
                server + [
                    binaries + "/initdb", "-D", data, "-U", Self.user, "--auth=trust", "-E", "UTF8", "--no-sync",
                    "--locale=C",
                ]
            )
            // Stops the server and removes its directory once this process is gone, however it ended.
            try Self.spawn(
                server + [
                    "/bin/sh", "-c",
                    #"while [ -d "/proc/$0" ]; do sleep 1; done; "$1/pg_ctl" stop -D "$2" -m immediate; rm -rf "$3""#,
                    String(getpid()), binaries, data, directory.path,
                ]
            )
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let options =
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=\(durable ? "on" : "off") "
                + "-c max_connections=500"
            let started = PostgreSQLServer(
                port: port,
                directory: directory,
                binaries: binaries,
                asRoot: asRoot,
                options: options
            )
            do {
                try await started.restart()
                return started
            } catch {
                lastError = error
            }
        }
        throw lastError ?? PostgreSQLServerError("PostgreSQL did not start")
    }

    deinit {
        // Not waited for: the watchdog removes whatever this leaves.
        guard !stopped.withLock({ $0 }) else { return }
        let data = directory.appendingPathComponent("data").path
        try? Self.spawn(
            Self.asServerUser(asRoot) + [
                "/bin/sh", "-c", #""$0/pg_ctl" stop -D "$1" -m fast -w; rm -rf "$2""#, binaries, data, directory.path,
            ]
        )
    }

    /// A `postgres://` URL for `database` on this server (plain TCP on loopback).
    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates an empty database, or a copy of `template` (a database nobody is connected to), and returns its
    /// name.
    @discardableResult
    public func createDatabase(
        _ name: String = "writ_\(UUID().uuidString.prefix(8).lowercased())",
        template: String? = nil
    ) async throws -> String {
        try await sql("CREATE DATABASE \"\(name)\"" + (template.map { " TEMPLATE \"\($0)\"" } ?? ""))
        return name
    }

    /// Drops a database, disconnecting its sessions.
    public func dropDatabase(_ name: String) async throws {
        try await sql("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    /// Runs SQL through `psql` and returns what it printed (unaligned, tuples only).
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") async throws -> String {
        try await Self.run(
            [
                Self.psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port),
                "-U", Self.user, "-d", database, "-c", statement,
            ]
        )
    }

    /// Stops the server as a crash would (immediate shutdown: no checkpoint, every session cut); ``restart()``
    /// then recovers from the write-ahead log.
    public func crash() async throws {
        let data = directory.appendingPathComponent("data").path
        try await Self.run(Self.asServerUser(asRoot) + [binaries + "/pg_ctl", "stop", "-D", data, "-m", "immediate"])
    }

    /// Starts the server again on its port, after ``crash()``; returns once it accepts connections.
    public func restart() async throws {
        try await Self.run(
            Self.asServerUser(asRoot) + [
                binaries + "/pg_ctl", "start", "-w", "-t", "60", "-D", directory.appendingPathComponent("data").path,
                "-l", directory.appendingPathComponent("server.log").path, "-o", options,
            ]
        )
    }

    /// Stops the server (fast shutdown) and removes its directory. Safe to call twice.
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let data = directory.appendingPathComponent("data").path
        _ = try? await Self.run(
            Self.asServerUser(asRoot) + [binaries + "/pg_ctl", "stop", "-D", data, "-m", "fast", "-w"]
        )
        try? FileManager.default.removeItem(at: directory)
    }

    private static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        for version in versions.reversed()
        where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/postgres") {
            return "\(root)/\(version)/bin"
        }
        throw PostgreSQLServerError("no PostgreSQL server under \(root); `make deps` installs Debian's postgresql")
    }

    private static func psql() throws -> String {
        let candidates = [(try? binaries()).map { $0 + "/psql" }, "/usr/bin/psql"].compactMap { $0 }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw PostgreSQLServerError("psql is missing; `make deps` installs Debian's postgresql")
        }
        return found
    }

    private static func asServerUser(_ asRoot: Bool) -> [String] {
        asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
    }

    /// Runs a command to its end; its output, or an error carrying what it printed. The output goes through a
    /// file, not a pipe: a server the command starts must not hold the reading end open.
    @discardableResult
    static func run(_ command: [String]) async throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("writ-pg-run-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: log.path, contents: nil),
            let output = FileHandle(forWritingAtPath: log.path)
        else { throw PostgreSQLServerError("cannot create \(log.path)") }
        defer { try? FileManager.default.removeItem(at: log) }
        let exit = try await ChildProcess.run(process(command, output: output), deadline: .seconds(120))
        try? output.close()
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard exit.status == 0, !exit.timedOut else {
            let how = exit.timedOut ? "did not finish within 120 s" : "failed (\(exit.status))"
            throw PostgreSQLServerError("\(command[0]) \(how): \(printed)")
        }
        return printed
    }

    /// Starts a command and leaves it running on its own.
    private static func spawn(_ command: [String]) throws {
        try process(command, output: FileHandle.nullDevice).run()
    }

    /// `command`, to be started in a subshell that first closes every descriptor above 2: a process started from here
    /// would otherwise inherit this process's sockets and pipes, and a server would keep them open. The outer
    /// shell keeps its own (Foundation learns that a process ended when its descriptor closes), waits, and passes
    /// SIGTERM on to the command (a deadline's stop).
    private static func process(_ command: [String], output: FileHandle) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closer =
            #"(for fd in /proc/$BASHPID/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@") & "#
            + #"c=$!; trap 'kill -TERM $c 2>/dev/null' TERM; wait $c; s=$?; "#
            + #"while kill -0 $c 2>/dev/null; do wait $c; s=$?; done; exit $s"#
        process.arguments = ["-c", closer, "writ-pg"] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        return process
    }
}

/// The tests' PostgreSQL server could not be started or used.
public struct PostgreSQLServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The one server the tests of this process share.
private actor SharedServer {
    static let instance = SharedServer()
    private var starting: Task<PostgreSQLServer, any Error>?

    func server() async throws -> PostgreSQLServer {
        if let starting { return try await starting.value }
        let started = Task { try await PostgreSQLServer.start() }
        starting = started
        return try await started.value
    }
}

extension PostgreSQLServer {
    /// Runs `body` with a new database (a copy of `template`, if given) and drops it afterwards, whether `body`
    /// throws or not.
    public func withDatabase<Result: Sendable>(
        template: String? = nil,
        _ body: (String) async throws -> Result
    ) async throws -> Result {
        let name = try await createDatabase(template: template)
        do {
            let result = try await body(name)
            try? await dropDatabase(name)
            return result
        } catch {
            try? await dropDatabase(name)
            throw error
        }
    }
}
