public import Foundation
public import Logging
import Synchronization
public import WritPolicy
public import WritToken
import WritVerifier

/// The broker's core: tasks, token issuance, revocation. The HTTP layer maps requests onto it and its
/// errors onto responses; it knows nothing of HTTP.
public final class Broker: Sendable {
    /// Settings that shape issuance.
    public struct Settings: Sendable {
        /// `iss` of every token, and the base of the broker's URLs.
        public var issuer: String
        /// A token's lifetime when the policy allows longer.
        public var defaultTokenLifetime: TimeInterval = 300
        /// No token lives longer than this, whatever the policy says; it also bounds how long a revocation of
        /// a workload, user or time is kept in the feed.
        public var maximumTokenLifetime: TimeInterval = 3600
        /// Open tasks one workload may have.
        public var openTaskLimit = 100
        /// Requests a second per workload, sustained.
        public var requestsPerSecond: Double = 100
        /// Burst per workload.
        public var burst: Double = 200
        /// Whether DPoP proofs at the token endpoint must carry a nonce from the broker (RFC 9449 §8).
        public var requireDPoPNonces = false

        /// Settings for an issuer URL.
        public init(issuer: String) { self.issuer = issuer }

        /// How long a new signing key is published before it signs: longer than verifiers' JWKS refresh
        /// interval, so none meets a token signed with a key it has not fetched.
        public var keyPublishLead: TimeInterval = 600
        /// Where signing keys are written; rotation needs it.
        public var keyDirectory: URL?

        /// The base URL of the mutual-TLS listener, when there is one.
        public var mutualTLSBase: String?

        /// The resource servers, which read the revocation feed and introspect with their own identity.
        public var resourceServers = ResourceServerRegistry([])
        /// Revocation streams one caller (a resource server or operator) may hold open at once, so no caller
        /// can take every slot.
        public var streamsPerCaller = 64

        /// The token endpoint's URL, which DPoP proofs must name.
        public var tokenEndpoint: String { issuer + "/v1/token" }

        /// The token endpoint's URL on the mutual-TLS listener.
        public var mutualTLSTokenEndpoint: String? { mutualTLSBase.map { $0 + "/v1/token" } }
    }

    /// The settings.
    public let settings: Settings
    /// The store.
    public let database: BrokerDatabase
    /// Trusted identity issuers.
    public let identities: IdentityRegistry
    /// The revocation feed.
    public let feed: RevocationFeed
    /// Operator tokens.
    public let operators: OperatorAuthenticator
    /// Metrics.
    public let metrics: BrokerMetrics
    /// The X.509 trust bundles, by trust domain.
    public let bundles: TrustBundles
    /// The clock every decision reads.
    public let clock: any WritClock
    /// The logger.
    public let logger: Logger

    let limiter: RateLimiter
    let bundleSources: [TrustBundleSource]
    let bundleFingerprints = Mutex<[String: String]>([:])
    let proofReplays = DPoPReplayCache(capacity: 250_000, perKeyCapacity: 20_000)
    /// The DPoP nonces handed out.
    public let dpopNonces = DPoPNonces()
    private let policyState: Mutex<PolicySet>
    private let keyState: Mutex<SigningKeys>
    let openTasks = Mutex<[String: BrokerTask]>([:])

    /// A broker over an opened database.
    public init(
        settings: Settings,
        database: BrokerDatabase,
        policies: PolicySet,
        signingKeys: SigningKeys,
        identities: IdentityRegistry,
        metrics: BrokerMetrics = BrokerMetrics(),
        bundles: TrustBundles = TrustBundles(),
        bundleSources: [TrustBundleSource] = [],
        clock: any WritClock = SystemClock(),
        logger: Logger = Logger(label: "writ.broker"),
        operatorCheckConcurrency: Int = 2
    ) throws {
        self.bundles = bundles
        self.bundleSources = bundleSources
        self.settings = settings
        self.database = database
        self.policyState = Mutex(policies)
        self.keyState = Mutex(signingKeys)
        self.identities = identities
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        self.limiter = RateLimiter(rate: settings.requestsPerSecond, burst: settings.burst)
        self.feed = try RevocationFeed(database: database, metrics: metrics, now: clock.now)
        self.operators = OperatorAuthenticator(
            database: database,
            concurrency: operatorCheckConcurrency,
            queue: 32,
            cacheLifetime: 60
        )
    }

    /// The policies in force.
    public var policies: PolicySet { policyState.withLock { $0 } }

    /// Replaces the policies atomically.
    public func install(_ policies: PolicySet) { policyState.withLock { $0 = policies } }

    /// The signing keys.
    public var signingKeys: SigningKeys { keyState.withLock { $0 } }

    /// Replaces the signing keys.
    func install(_ keys: SigningKeys) { keyState.withLock { $0 = keys } }

    /// Refuses a workload over its rate limit.
    func admit(_ workload: SPIFFEID) throws(BrokerError) {
        if let wait = limiter.admit(workload.description, now: clock.now) {
            metrics.denied(BrokerError.Code.rateLimited.rawValue)
            throw BrokerError(.rateLimited, "too many requests from this workload", retryAfter: wait)
        }
    }

    /// Runs a write, mapping store failures to a bare internal error (logged without secrets).
    func write<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (GRDBDatabase) throws -> T
    ) async throws(BrokerError) -> T {
        do {
            return try await database.write(body)
        } catch let error as BrokerError {
            throw error
        } catch {
            logger.error("store write failed", metadata: ["operation": "\(what)", "error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not record this; nothing was changed")
        }
    }

    /// Runs a read, mapping store failures to a bare internal error.
    func read<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (GRDBDatabase) throws -> T
    ) async throws(BrokerError) -> T {
        do {
            return try await database.read(body)
        } catch let error as BrokerError {
            throw error
        } catch {
            logger.error("store read failed", metadata: ["operation": "\(what)", "error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not read its store")
        }
    }
}
