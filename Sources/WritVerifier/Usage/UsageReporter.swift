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

    /// The most bytes of records one report carries (the broker takes up to 4 MiB).
    static let maximumReportBytes = 3 << 20

    /// Sends what the recorder holds now, if anything, in reports within the broker's limits. A report the
    /// broker refuses as such (400, 403, 413) is counted as dropped, so one bad report never blocks the next;
    /// on any other failure the rest is put back for the next time, and the error thrown.
    public func report() async throws {
        let taken = recorder.take()
        guard !taken.records.isEmpty || taken.dropped > 0 else { return }
        var chunks: [[UsageRecord]] = [[]]
        var bytes = 0
        for record in taken.records {
            let size = record.bytes.count
            if chunks[chunks.count - 1].count >= UsageReport.maximumRecords || bytes + size > Self.maximumReportBytes {
                chunks.append([])
                bytes = 0
            }
            chunks[chunks.count - 1].append(record)
            bytes += size
        }
        for (index, chunk) in chunks.enumerated() {
            let report = UsageReport(audience: taken.audience, records: chunk, dropped: index == 0 ? taken.dropped : 0)
            do {
                try await send(report)
            } catch let refusal as Refused where [400, 403, 413].contains(refusal.status) {
                recorder.drop(chunk.reduce(0) { UsageRecorder.sum($0, $1.count) })
                logger.error(
                    "the broker refused a usage report; its records are counted as dropped",
                    metadata: ["error": "\(refusal)"]
                )
            } catch {
                let rest: [UsageRecord] = Array(chunks[index...].joined())
                recorder.restore(UsageReport(audience: taken.audience, records: rest, dropped: report.dropped))
                throw error
            }
        }
    }

    /// The broker's answer to a report it did not take.
    struct Refused: Error, CustomStringConvertible {
        let status: UInt
        let body: String
        var description: String { "the broker answered \(status) to a usage report: \(body)" }
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
            throw Refused(status: response.status.code, body: String(text.prefix(300)))
        }
    }
}
