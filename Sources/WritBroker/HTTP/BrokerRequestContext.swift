public import Hummingbird
public import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer address.
public struct BrokerRequestContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// The peer, when known.
    public let remoteAddress: SocketAddress?
    /// The connection's client certificates, on the mutual-TLS listener.
    public let clientCertificates: ClientCertificates.Connection?

    /// A context for a request from a channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientCertificates = ClientCertificates.live.connection(for: source.channel)
    }
}
