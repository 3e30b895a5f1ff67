public import HummingbirdCore
public import Logging
public import NIOCore
public import NIOSSL

/// A child channel that speaks TLS and asks every client for a certificate. The TLS layer checks only that
/// the client holds the key of the certificate it presents; the chain is recorded for the connection and
/// judged as an X.509-SVID when a request uses it, so a bad certificate gets an HTTP answer with a stable
/// code instead of a bare handshake failure, and trust bundles can change without a restart.
public struct MutualTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    public typealias Value = BaseChannel.Value

    let context: NIOSSLContext
    var baseChannel: BaseChannel
    let registry: ClientCertificates

    /// A channel over `baseChannel` with a TLS context.
    public init(_ baseChannel: BaseChannel, context: NIOSSLContext, registry: ClientCertificates = .live) {
        self.baseChannel = baseChannel
        self.context = context
        self.registry = registry
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection = registry.register(channel)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLServerHandler(
                    context: context,
                    customVerificationCallback: { certificates, promise in
                        // Chain validation happens per request, against the bundle of the SPIFFE ID's own
                        // trust domain; here the chain is only kept.
                        connection.record(certificates.compactMap { try? $0.toDERBytes() })
                        promise.succeed(.certificateVerified)
                    },
                    configuration: .init()
                )
            )
        }.flatMap {
            baseChannel.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension MutualTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS that asks every client for a certificate (see ``MutualTLSChannel``).
    public static func mutualTLS(
        context: NIOSSLContext,
        configuration: HTTP1Channel.Configuration = .init()
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            MutualTLSChannel(HTTP1Channel(responder: responder, configuration: configuration), context: context)
        }
    }
}
