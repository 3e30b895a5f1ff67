import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ports for the tests' own servers on 127.0.0.1.
public enum LoopbackPort {
    /// A port nothing listens on now, below the kernel's ephemeral range (32768 and up): no outgoing connection
    /// of this machine can be holding it when a server binds it, nor take it between a stop and a restart of a
    /// server on the same port.
    private static let handedOut = Mutex<Set<Int>>([])

    public static func free() throws -> Int {
        for _ in 0..<500 {
            let port = Int.random(in: 10_000...32_000)
            // A port handed out before may not be bound yet by whoever took it: never hand it out twice.
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw PostgreSQLServerError("no socket for a port probe") }
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { rebound in
                    bind(descriptor, rebound, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        throw PostgreSQLServerError("no free loopback port below 32000")
    }
}
