public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import WritAPI
import WritToken

/// Sends a ``UsageRecorder``'s records to the broker (`POST /v1/usage`) every `interval`, or sooner when
/// `batch` distinct records wait, authenticated as the resource server (the same credential as the feed:
/// its own JWT-SVID). A report that cannot be delivered is put back and sent with the next one; what no
/// longer fits in the recorder is counted as dropped and reported.
public final class UsageReporter: Service, Sendable {
    /// Where and how often to report.
    public struct Configuration: Sendable {
        /// The broker's base URL (its issuer).
        public var broker: String
        /// The resource server's credential, as for the revocation feed.
        public var credential: FeedCredential
        /// The longest time a record waits.
        public var interval: Duration = .seconds(1)
        /// Report sooner when this many distinct records wait.
        public var batch = 2000
        /// How long one report may take.
        public var requestTimeout: Duration = .seconds(5)

        /// A configuration for a broker and a credential.
        public init(broker: String, credential: FeedCredential) {
            var base = broker
            while base.hasSuffix("/") { base.removeLast() }
            self.broker = base
            self.credential = credential
        }
    }

    /// The configuration.
    public let configuration: Configuration
    /// The records sent.
    public let recorder: UsageRecorder
    let client: HTTPClient
    let logger: Logger

    /// A reporter for a recorder.
    public init(
        configuration: Configuration,
        recorder: UsageRecorder,
        client: HTTPClient = .shared,
        logger: Logger = Logger(label: "writ.usage-reporter")
    ) {
        self.configuration = configuration
        self.recorder = recorder
        self.client = client
        self.logger = logger
    }

    /// Reports until cancelled or shut down, with a last report on the way out.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.reportUntilCancelled() }
        try? await report()
    }

    private func reportUntilCancelled() async {
        let tick = Duration.milliseconds(50)
        var waited = Duration.zero
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            waited += tick
            guard waited >= configuration.interval || recorder.pending >= configuration.batch else { continue }
            waited = .zero
            do {
                try await report()
            } catch {
                if Task.isCancelled { return }
                logger.warning("usage report not delivered; kept for the next one", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Sends what the recorder holds now, if anything; on failure puts it back and throws.
    public func report() async throws {
        let report = recorder.take()
        guard !report.records.isEmpty || report.dropped > 0 else { return }
        do {
            try await send(report)
        } catch {
            recorder.restore(report)
            throw error
        }
    }

    private func send(_ report: UsageReport) async throws {
        switch PlainHTTPPolicy.verdict(for: configuration.broker) {
        case .encrypted, .loopback: break
        case .plainToOtherHost(let host):
            throw FeedError.refused("the broker \(host) is plain http; the credential goes only over https")
        case .refused(let refusal):
            throw FeedError.refused("the broker URL is refused: \(refusal)")
        }
        var request = HTTPClientRequest(url: configuration.broker + "/v1/usage")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(try await configuration.credential.bearer())")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(report.bytes)
        let (seconds, attoseconds) = configuration.requestTimeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await client.execute(request, timeout: timeout)
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 64 << 10)
            let text = body.map { String(buffer: $0) } ?? ""
            throw FeedError.refused(
                "the broker answered \(response.status.code) to a usage report: \(text.prefix(300))"
            )
        }
    }
}
