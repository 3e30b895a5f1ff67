import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import WritToken
import WritVerifier
import WritVerifierHummingbird

/// An example resource server: a small documents service that accepts only Writ tokens. It verifies every
/// request offline with `WritVerifier` (keys from the broker's JWKS, revocations from its feed) and
/// authorises `read` on the document the path names.
///
/// It reads the broker's revocation feed as a resource server, with its own workload identity: a JWT-SVID
/// for `spiffe://example.org/services/documents` in the file `FEED_CREDENTIAL_FILE` (re-read on every feed
/// request, as a SPIFFE helper rewrites it). With the same identity it reports what it allowed and refused to
/// the broker every `USAGE_INTERVAL` seconds (1 by default; `USAGE_REPORTS=off` turns reporting off), so the
/// broker's monitoring rules see an agent probing outside its grant.
///
///     writ dev workload-token spiffe://example.org/services/documents > .writ/dev/documents.jwt
///     WRIT_BROKER=http://127.0.0.1:8080 LISTEN=127.0.0.1:9090 FEED_CREDENTIAL_FILE=.writ/dev/documents.jwt \
///         writ-example-documents
@main
struct DocumentsService {
    /// The documents it holds.
    static let documents: [String: String] = [
        "departments/hr/handbook/leave": "Leave: 25 days a year, carried over up to 5.",
        "departments/hr/handbook/expenses": "Expenses: receipts within 30 days.",
        "departments/finance/payroll/2026-11": "Payroll run: 2026-11-25.",
        "public/reports/q3": "Q3: revenue up 12%.",
    ]

    struct Context: WritAuthorizedRequestContext {
        var coreContext: CoreRequestContextStorage
        var writAccess: VerifiedAccess?
        init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    }

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let broker = environment["WRIT_BROKER"] ?? "http://127.0.0.1:8080"
        let listen = environment["LISTEN"] ?? "127.0.0.1:9090"
        let audience = environment["AUDIENCE"] ?? "https://docs.example.org"
        let staleness = TimeInterval(environment["MAXIMUM_STALENESS"] ?? "") ?? 10
        guard let credentialFile = environment["FEED_CREDENTIAL_FILE"],
            FileManager.default.isReadableFile(atPath: credentialFile)
        else {
            FileHandle.standardError.write(
                Data(
                    ("FEED_CREDENTIAL_FILE must name a readable file holding this service's JWT-SVID (`writ dev "
                        + "workload-token spiffe://example.org/services/documents > FILE`) or an operator token "
                        + "with the introspect role: the broker serves its revocation feed only to resource servers\n")
                        .utf8
                )
            )
            exit(2)
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            FileHandle.standardError.write(Data("LISTEN must be HOST:PORT, e.g. 127.0.0.1:9090; got \(listen)\n".utf8))
            exit(2)
        }
        var logger = Logger(label: "documents")
        logger.logLevel = .notice
        let keys = RemoteKeySet(source: HTTPJWKSSource(url: broker + "/.well-known/jwks.json"), logger: logger)
        let view = InMemoryRevocationView(maximumStaleness: staleness)
        var feedConfiguration = RevocationFeedClient.Configuration(broker: broker)
        feedConfiguration.silence = .seconds(3)
        feedConfiguration.maximumBackoff = .seconds(1)
        feedConfiguration.requestTimeout = .seconds(2)
        feedConfiguration.credential = .file(credentialFile)
        let feed = RevocationFeedClient(configuration: feedConfiguration, view: view, logger: logger)
        let reporting = environment["USAGE_REPORTS"] != "off"
        let recorder = reporting ? UsageRecorder(audience: audience) : nil
        let verifier = TokenVerifier(
            configuration: .init(issuer: broker, audience: audience, acceptsBearerTokens: false),
            keys: keys,
            revocations: view,
            usage: recorder
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: keys), .init(service: feed)]
        if let recorder {
            var configuration = UsageReporter.Configuration(broker: broker, credential: .file(credentialFile))
            let interval = Double(environment["USAGE_INTERVAL"] ?? "") ?? 1
            configuration.interval = .milliseconds(Int(max(interval, 0.05) * 1000))
            services.append(
                .init(service: UsageReporter(configuration: configuration, recorder: recorder, logger: logger))
            )
        }
        let router = Router(context: Context.self)
        // RFC 9728: clients learn from the service alone which broker issues its tokens; 401s name the document.
        let metadata = ProtectedResourceMetadata(
            resource: audience,
            authorizationServers: [broker],
            dpopBoundAccessTokensRequired: true,
            resourceName: "Writ example documents",
            authorizationDetailsTypesSupported: ["document"]
        )
        router.add(
            middleware: WritAuthorizationMiddleware<Context>(
                verifier: verifier,
                publicBase: "http://\(listen)",
                metadata: metadata,
                requirement: { request, _ in
                    guard request.uri.path.hasPrefix("/documents/") else { return nil }
                    let identifier = String(request.uri.path.dropFirst("/documents/".count))
                    return WritRequirement(action: "read", resource: Resource(type: "document", identifier: identifier))
                }
            )
        )
        router.get("/healthz") { _, _ in "ok" }
        router.get("/documents/**") { request, context -> Response in
            let identifier = String(request.uri.path.dropFirst("/documents/".count))
            guard let text = documents[identifier] else { return Response(status: .notFound) }
            let reader = context.writAccess.map { "\($0.workload) for \($0.user ?? "-")" } ?? "-"
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: .init(string: text + "\n(read by " + reader + ")\n"))
            )
        }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(String(listen[..<colon]), port: port)),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: services + [.init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // SIGTERM and SIGINT shut every service down gracefully; each returns normally, so the process exits 0.
        try await group.run()
    }
}
