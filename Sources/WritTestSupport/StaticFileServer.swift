import Foundation

/// Python's http.server over a temporary folder. Nothing here blocks a thread: the port is read by
/// polling the server's log file, and shutdown polls for the exit, so the cooperative pool keeps running.
public final class StaticFileServer: @unchecked Sendable {
    let process = Process()
    let directory: URL
    /// The port it listens on, once started.
    public private(set) var port = 0

    /// Serves `files` (name → content) from a new temporary folder.
    public init(files: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-jwks-\(UUID().uuidString)")
        let root = directory.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (name, content) in files {
            try Data(content.utf8).write(to: root.appendingPathComponent(name))
        }
        let log = directory.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // python3 may be a launcher (pyenv) that runs the interpreter as its child: terminating the launcher
        // would orphan the server. So the server also leaves as soon as its parent is gone.
        process.arguments = ["python3", "-u", "-c", Self.script, root.path]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    static let script = """
        import functools, http.server, os, sys, threading, time
        parent = os.getppid()
        def watch():
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(f"Serving HTTP on 127.0.0.1 port {server.server_address[1]}", flush=True)
        server.serve_forever()
        """

    /// Waits until the server has said which port it listens on.
    public func start() async throws {
        let log = directory.appendingPathComponent("server.log")
        for _ in 0..<200 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            // "Serving HTTP on 127.0.0.1 port 43123 (http://127.0.0.1:43123/) ..."
            if let range = text.range(of: "port "), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    /// Stops the server and removes its folder.
    public func stop() async {
        process.terminate()
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        try? FileManager.default.removeItem(at: directory)
    }
}
