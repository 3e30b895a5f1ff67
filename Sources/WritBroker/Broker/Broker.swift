public import Foundation
public import Logging
public import WritPolicy
public import WritToken

/// The broker: its services, composed over one set of stores. The HTTP layer maps requests onto the services
/// and their errors onto responses; nothing here knows HTTP or SQL.
public final class Broker: Sendable {
    /// What the services share: settings, clock, logger, metrics, policies, rate limit.
    public let context: BrokerContext
    /// The stores.
    public let stores: BrokerStores
    /// Trusted identity issuers (JWT-SVID and user assertions).
    public let identities: IdentityRegistry
    /// X.509-SVIDs and their trust bundles.
    public let certificates: CertificateAuthenticator
    /// The revocation feed: the in-memory view and the stream's subscribers.
    public let feed: RevocationFeed
    /// Operator tokens.
    public let operators: OperatorAuthenticator
    /// Tasks.
    public let tasks: TaskService
    /// Token issuance and introspection.
    public let tokens: TokenService
    /// Revocations.
    public let revocations: RevocationService
    /// Signing keys.
    public let keys: KeyService
    /// The audit log.
    public let audit: AuditService
    /// Token Status Lists.
    public let statusLists: StatusListService
    /// The Shared Signals transmitter.
    public let signals: SignalService
    /// The Shared Signals receiver.
    public let signalReceiver: SignalReceiver
    /// Usage reports, detection rules, alerts and quarantines.
    public let monitoring: MonitoringService

    /// A broker over opened stores: loads the feed's standing entries, then composes the services.
    public init(
        settings: BrokerSettings,
        stores: BrokerStores,
        policies: PolicySet,
        signingKeys: SigningKeys,
        identities: IdentityRegistry,
        metrics: BrokerMetrics = BrokerMetrics(),
        bundles: TrustBundles = TrustBundles(),
        bundleSources: [TrustBundleSource] = [],
        clock: any WritClock = SystemClock(),
        logger: Logger = Logger(label: "writ.broker"),
        operatorCheckConcurrency: Int = 2
    ) async throws {
        let context = BrokerContext(
            settings: settings,
            policies: policies,
            clock: clock,
            logger: logger,
            metrics: metrics
        )
        let snapshot = try await stores.revocations.snapshot(now: clock.now)
        let feed = RevocationFeed(store: stores.revocations, snapshot: snapshot, metrics: metrics, now: clock.now)
        let (tasks, keys, tokens, statusLists) = Self.services(context, stores, identities, feed, signingKeys)
        self.context = context
        self.stores = stores
        self.identities = identities
        self.feed = feed
        self.certificates = CertificateAuthenticator(
            bundles: bundles,
            sources: bundleSources,
            clock: clock,
            logger: logger,
            metrics: metrics
        )
        self.operators = OperatorAuthenticator(store: stores.operators, concurrency: operatorCheckConcurrency)
        self.tasks = tasks
        self.tokens = tokens
        self.keys = keys
        self.revocations = RevocationService(
            context: context,
            store: stores.revocations,
            tasks: tasks,
            tokens: stores.tokens,
            feed: feed,
            ownTokens: { token, now in tokens.verifyOwnToken(token, now: now) }
        )
        self.audit = AuditService(context: context, store: stores.audit)
        self.statusLists = statusLists
        (self.signals, self.signalReceiver) = Self.signals(context, stores, identities, revocations, feed, keys)
        self.monitoring = MonitoringService(
            context: context,
            store: stores.monitoring,
            tasks: tasks,
            tokens: stores.tokens,
            revocations: revocations,
            feed: feed
        )
    }

    /// The Shared Signals transmitter and receiver.
    private static func signals(
        _ context: BrokerContext,
        _ stores: BrokerStores,
        _ identities: IdentityRegistry,
        _ revocations: RevocationService,
        _ feed: RevocationFeed,
        _ keys: KeyService
    ) -> (SignalService, SignalReceiver) {
        let transmitter = SignalService(
            context: context,
            store: stores.signals,
            revocations: stores.revocations,
            tokens: stores.tokens,
            feed: feed,
            keys: keys
        )
        let receiver = SignalReceiver(
            context: context,
            identities: identities,
            revocations: revocations,
            audit: stores.audit
        )
        return (transmitter, receiver)
    }

    /// The services that depend on one another: tokens need tasks (and their grants) and keys.
    private static func services(
        _ context: BrokerContext,
        _ stores: BrokerStores,
        _ identities: IdentityRegistry,
        _ feed: RevocationFeed,
        _ signingKeys: SigningKeys
    ) -> (TaskService, KeyService, TokenService, StatusListService) {
        let tasks = TaskService(
            context: context,
            store: stores.tasks,
            audit: stores.audit,
            identities: identities,
            feed: feed,
            caching: stores.leadership == nil
        )
        let keys = KeyService(context: context, store: stores.keys, feed: feed, keys: signingKeys)
        // Brokers sharing a database reserve smaller blocks, so fewer indices go unused when one stops.
        let statusLists = StatusListService(
            context: context,
            store: stores.statusLists,
            keys: keys,
            feed: feed,
            blockSize: stores.leadership == nil ? 1024 : 256
        )
        let tokens = TokenService(
            context: context,
            store: stores.tokens,
            tasks: tasks,
            keys: keys,
            identities: identities,
            feed: feed,
            statusLists: statusLists
        )
        return (tasks, keys, tokens, statusLists)
    }

    /// The settings.
    public var settings: BrokerSettings { context.settings }
    /// The clock every decision reads.
    public var clock: any WritClock { context.clock }
    /// The logger.
    public var logger: Logger { context.logger }
    /// Metrics.
    public var metrics: BrokerMetrics { context.metrics }
    /// The policies in force.
    public var policies: PolicySet { context.policies }
    /// Replaces the policies atomically; open tasks meet them at their next token request.
    public func install(_ policies: PolicySet) { context.install(policies) }

    /// Removes what no one needs any more, in small slices so requests keep flowing: feed entries past their
    /// retention (never past what the view applied, so it is left without a gap), expired tokens and proofs,
    /// closed tasks past their retention, audit entries past `auditRetention`.
    @discardableResult
    public func prune(auditRetention: TimeInterval, maximumSlices: Int = 2000) async throws(BrokerError) -> Int {
        let now = clock.now
        let slice = 500
        let applied = feed.lastSequence
        let closedBefore = now.addingTimeInterval(-TaskService.closedTaskRetention)
        let auditBefore = now.addingTimeInterval(-auditRetention)
        var total = 0
        for _ in 0..<maximumSlices {
            let removed = try await context.store("prune") {
                [
                    try await stores.revocations.prune(before: now, through: applied, limit: slice),
                    try await stores.tokens.prune(expiredBefore: now, limit: slice),
                    try await stores.tasks.prune(closedBefore: closedBefore, limit: slice),
                    try await stores.audit.prune(before: auditBefore, limit: slice),
                ]
            }
            total += removed.reduce(0, +)
            if removed.allSatisfy({ $0 < slice }) { break }
        }
        // Alerts are kept as long as the audit entries that record them.
        total += try await context.store("prune alerts") { try await stores.monitoring.prune(before: auditBefore) }
        pruneMemory(now: now)
        return total
    }

    /// Forgets, in this broker's memory, feed entries whose tokens have all expired and the open-task cache
    /// when it is large. Every broker does this; where brokers share a store only the leader prunes the store.
    public func pruneMemory(now: Date) {
        feed.prune(now: now)
        tasks.trimCache()
    }
}
