import Foundation
public import NIOCore
import Synchronization
import WritPolicy
import WritToken

/// The client certificates of live TLS connections, by channel, so a request's context can find the chain
/// its connection presented. A connection's entry is made when its TLS handler is set up and removed when
/// it closes.
public final class ClientCertificates: Sendable {
    /// One connection's presented chain (DER, leaf first) and, once checked, the identity it proves.
    public final class Connection: Sendable {
        private let state = Mutex<(chain: [[UInt8]], verified: (WorkloadIdentity, String, Date)?)>(([], nil))

        /// The chain presented, leaf first.
        public var chain: [[UInt8]] { state.withLock { $0.chain } }

        func record(_ chain: [[UInt8]]) { state.withLock { $0 = (chain, nil) } }

        /// The identity this connection's SVID proved, with the leaf's thumbprint, while the leaf is valid.
        func verified(now: Date) -> (WorkloadIdentity, String)? {
            state.withLock { state in
                guard let (identity, thumbprint, until) = state.verified, now <= until else { return nil }
                return (identity, thumbprint)
            }
        }

        func remember(_ identity: WorkloadIdentity, thumbprint: String, until: Date) {
            state.withLock { $0.verified = (identity, thumbprint, until) }
        }

        /// Forgets a remembered identity (when the trust bundles change).
        func forget() { state.withLock { $0.verified = nil } }
    }

    /// The process's connections.
    public static let live = ClientCertificates()

    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])

    /// Starts tracking a channel; the entry goes when the channel closes.
    func register(_ channel: any Channel) -> Connection {
        let connection = Connection()
        let key = ObjectIdentifier(channel)
        connections.withLock { $0[key] = connection }
        channel.closeFuture.whenComplete { [self] _ in
            _ = connections.withLock { $0.removeValue(forKey: key) }
        }
        return connection
    }

    /// The connection of a channel, when it is a mutual-TLS one.
    public func connection(for channel: any Channel) -> Connection? {
        connections.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// Forgets every connection's remembered identity.
    func forgetVerified() {
        let all = connections.withLock { Array($0.values) }
        for connection in all { connection.forget() }
    }
}
