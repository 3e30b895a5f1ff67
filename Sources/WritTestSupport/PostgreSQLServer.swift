public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of the tests' own: a new cluster (`initdb`) in a temporary directory, listening on
/// loopback on a free port, with trust authentication for the user `writ`. ``stop()`` shuts it down and
/// removes its directory; a watchdog does the same if the test process ends without stopping it (a crash,
/// a failed test's early exit), so no server outlives the tests.
///
/// As root (CI), the server runs as the `postgres` user that Debian's `postgresql` package creates, since
/// PostgreSQL refuses to run as root.
public final class PostgreSQLServer: @unchecked Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The cluster's directory (data, socket and log).
    public let directory: URL
    private let binaries: String
    private let asRoot: Bool
    private let lock = NSLock()
    private var stopped = false

    /// The user every test connects as.
    public static let user = "writ"

    /// Starts a new server; `durable: false` turns fsync off, which is faster and enough for tests that do not
    /// crash the machine.
    public init(durable: Bool = false) throws {
        let binaries = try Self.binaries()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = geteuid() == 0
        if asRoot { try Self.run(["/bin/chown", "postgres:postgres", directory.path]) }
        let data = directory.appendingPathComponent("data").path
        let server = Self.asServerUser(asRoot)
        do {
            try Self.run(
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
                + "-c max_connections=300"
            do {
                try Self.run(
                    server + [
                        binaries + "/pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l",
                        directory.appendingPathComponent("server.log").path, "-o", options,
                    ]
                )
                self.port = port
                self.directory = directory
                self.binaries = binaries
                self.asRoot = asRoot
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? PostgreSQLServerError("PostgreSQL did not start")
    }

    deinit { stop() }

    /// A `postgres://` URL for `database` on this server (plain TCP on loopback).
    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates an empty database and returns its name.
    @discardableResult
    public func createDatabase(_ name: String = "writ_\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        try sql("CREATE DATABASE \"\(name)\"")
        return name
    }

    /// Drops a database, disconnecting its sessions.
    public func dropDatabase(_ name: String) throws {
        try sql("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    /// Runs SQL through `psql` and returns what it printed (unaligned, tuples only).
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") throws -> String {
        try Self.run(
            [
                Self.psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port),
                "-U", Self.user, "-d", database, "-c", statement,
            ]
        )
    }

    /// Stops the server (fast shutdown) and removes its directory. Safe to call twice.
    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let data = directory.appendingPathComponent("data").path
        _ = try? Self.run(Self.asServerUser(asRoot) + [binaries + "/pg_ctl", "stop", "-D", data, "-m", "fast", "-w"])
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
    static func run(_ command: [String]) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("writ-pg-run-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: log.path, contents: nil),
            let output = FileHandle(forWritingAtPath: log.path)
        else { throw PostgreSQLServerError("cannot create \(log.path)") }
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try started(command, output: output)
        try? output.close()
        process.waitUntilExit()
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw PostgreSQLServerError("\(command[0]) failed (\(process.terminationStatus)): \(printed)")
        }
        return printed
    }

    /// Starts a command and leaves it running on its own.
    private static func spawn(_ command: [String]) throws {
        _ = try started(command, output: FileHandle.nullDevice)
    }

    /// Starts `command` in a subshell that first closes every descriptor above 2: a process started from here
    /// would otherwise inherit this process's sockets and pipes, and a server would keep them open. The outer
    /// shell keeps its own (Foundation learns that a process ended when its descriptor closes) and waits.
    private static func started(_ command: [String], output: FileHandle) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closer =
            #"(for fd in /proc/$BASHPID/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@")"#
        process.arguments = ["-c", closer, "writ-pg"] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }
}

/// The tests' PostgreSQL server could not be started or used.
public struct PostgreSQLServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
