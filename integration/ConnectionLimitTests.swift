import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Slow and idle clients cannot hold a real broker's connections: a half-sent request head and a trickled
/// body are cut off, and past the connection cap the broker says so and still answers once idle ones close.
@Suite("Connection limits", .timeLimit(.minutes(2)))
struct ConnectionLimitTests {
    static let configuration = """
        development: true
        limits:
          idle_timeout: 1
          request_timeout: 1
          max_connections: 40
        """

    /// A raw loopback connection.
    struct Connection {
        let descriptor: Int32

        init?(port: Int) {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { return nil }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                Glibc.close(descriptor)
                return nil
            }
            self.descriptor = descriptor
        }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        }

        /// Whether the broker has closed it: reads what it sent (an early answer, such as a 401 before the body
        /// arrived) and then finds end of file, or a reset.
        var isClosedByPeer: Bool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let received = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if received > 0 { continue }
                return received == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
            }
        }

        func close() { Glibc.close(descriptor) }
    }

    static func healthy(port: Int) -> Bool {
        guard let connection = Connection(port: port) else { return false }
        defer { connection.close() }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = recv(connection.descriptor, &buffer, buffer.count, 0)
        return received >= 12 && String(decoding: buffer[0..<12], as: UTF8.self) == "HTTP/1.1 200"
    }

    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("a half-sent head and a trickled body are cut off; past the cap the broker logs it and still answers")
    func slowAndIdleClients() async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start(environment: ["WRIT_LOG_LEVEL": "notice"], configuration: Self.configuration)
        var held: [Connection] = []
        do {
            let slowHead = try #require(Connection(port: broker.port))
            held.append(slowHead)
            slowHead.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let slowBody = try #require(Connection(port: broker.port))
            held.append(slowBody)
            slowBody.send(
                "POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"type\":"
            )
            #expect(try await Self.eventually { slowHead.isClosedByPeer }, "a half-sent head kept its connection")
            #expect(try await Self.eventually { slowBody.isClosedByPeer }, "a trickled body kept its connection")

            // Past the cap: the broker logs it, and answers once the idle ones are closed.
            for _ in 0..<60 {
                if let idle = Connection(port: broker.port) { held.append(idle) }
            }
            let started = ContinuousClock.now
            #expect(Self.healthy(port: broker.port), "the broker did not answer past the cap")
            #expect(ContinuousClock.now - started < .seconds(5))
            let log = (try? String(contentsOf: broker.logFile, encoding: .utf8)) ?? ""
            #expect(log.contains("connection cap reached"), "no log line for the cap: \(log)")
        } catch {
            for connection in held { connection.close() }
            try? await broker.stop()
            throw error
        }
        for connection in held { connection.close() }
        #expect(try await broker.stop() == 0)
    }
}
