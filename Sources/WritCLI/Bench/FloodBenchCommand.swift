public import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `writ bench flood`: whether a running broker keeps answering while slow and idle clients hold connections.
public struct FloodBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Hold slowloris and idle connections open against a broker and time /healthz meanwhile.",
        discussion: """
            Opens --slow connections that send a request head one header line every few seconds and never finish \
            it, and --idle connections that send nothing, then probes /healthz on a fresh connection every 100 ms \
            for --seconds and reports the probes' latency and how many flood connections the broker closed. Start \
            the broker on its own port first, e.g. with a short idle timeout to see it act:
              WRIT_LISTEN=127.0.0.1:8090 WRIT_TLS_LISTEN=off .build/release/writ serve --config flood.yaml &
              .build/release/writ bench flood --port 8090 --slow 200 --idle 5000 --seconds 40
            """
    )

    @Option(help: "The broker's port on 127.0.0.1.")
    var port = 8080

    @Option(help: "Connections that trickle a request head and never finish it.")
    var slow = 200

    @Option(help: "Connections that send nothing.")
    var idle = 5000

    @Option(help: "Seconds to hold the flood and probe.")
    var seconds = 40

    public init() {}

    public func run() async throws {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for index in 0..<(slow + idle) {
            guard let socket = FreePort.connect(port: port) else {
                print("opened \(index) connections before the machine refused more (errno \(errno))")
                break
            }
            sockets.append(socket)
            if index < slow { _ = Self.send(socket, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") }
        }
        print("flood: \(min(slow, sockets.count)) slow and \(max(sockets.count - slow, 0)) idle connections open")
        var latencies: [Double] = []
        var failures = 0
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        var lastTrickle = clock.now
        var closedAt: [Int: Int] = [:]
        while clock.now < end {
            let started = clock.now
            if FreePort.answersHealthy(port: port) {
                let (secondsPart, attoseconds) = (clock.now - started).components
                latencies.append(Double(secondsPart) * 1000 + Double(attoseconds) / 1e15)
            } else {
                failures += 1
            }
            if clock.now - lastTrickle > .seconds(5) {
                lastTrickle = clock.now
                for socket in sockets.prefix(slow) { _ = Self.send(socket, "X-Slow: 1\r\n") }
            }
            let closed = sockets.filter { Self.isClosed($0) }.count
            let second = Int((clock.now - (end - .seconds(seconds))).components.seconds)
            if closedAt[closed] == nil, closed > 0 { closedAt[closed] = second }
            try await Task.sleep(for: .milliseconds(100))
        }
        let closed = sockets.filter { Self.isClosed($0) }.count
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> String {
            sorted.isEmpty ? "-" : String(format: "%.2f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        let firstClose = closedAt.keys.min().flatMap { closedAt[$0] }.map { "after \($0) s" } ?? "never"
        print(
            "healthz during the flood: \(sorted.count) answered, \(failures) failed; p50 \(percentile(0.5)) ms, "
                + "p99 \(percentile(0.99)) ms, max \(percentile(1.0)) ms"
        )
        print("flood connections closed by the broker: \(closed) of \(sockets.count) (first \(firstClose))")
    }

    static func send(_ socket: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return Glibc.send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count
    }

    /// Whether the peer closed the connection (a read would return end of file now).
    static func isClosed(_ socket: Int32) -> Bool {
        var byte: UInt8 = 0
        let received = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }
}
