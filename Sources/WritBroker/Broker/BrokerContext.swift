import Foundation
public import Logging
import Synchronization
public import WritPolicy
public import WritToken

/// What every service of the broker shares: its settings, clock, logger, metrics, the policies in force and
/// the per-workload rate limit.
public final class BrokerContext: Sendable {
    /// The settings.
    public let settings: BrokerSettings
    /// The clock every decision reads.
    public let clock: any WritClock
    /// The logger.
    public let logger: Logger
    /// Metrics.
    public let metrics: BrokerMetrics
    private let limiter: RateLimiter
    private let policyState: Mutex<PolicySet>
    private let observer = Mutex<(@Sendable (BrokerSignal) -> Void)?>(nil)

    /// A context.
    public init(
        settings: BrokerSettings,
        policies: PolicySet,
        clock: any WritClock,
        logger: Logger,
        metrics: BrokerMetrics
    ) {
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.limiter = RateLimiter(rate: settings.limits.requestsPerSecond, burst: settings.limits.burst)
        self.policyState = Mutex(policies)
    }

    /// The policies in force.
    public var policies: PolicySet { policyState.withLock { $0 } }

    /// Replaces the policies atomically.
    public func install(_ policies: PolicySet) { policyState.withLock { $0 = policies } }

    /// Hands a signal the broker itself saw to the monitoring rules.
    func observe(_ signal: BrokerSignal) { observer.withLock { $0 }?(signal) }

    /// Where ``observe(_:)`` sends signals.
    func observeSignals(with handler: @escaping @Sendable (BrokerSignal) -> Void) {
        observer.withLock { $0 = handler }
    }

    /// Shares the rate limit among the brokers alive on the database.
    func shareRateLimit(among brokers: Int) { limiter.share(among: brokers) }

    /// How many brokers the rate limit is shared among now.
    var rateLimitSharedAmong: Int { limiter.sharedAmong }

    /// Refuses a workload over its rate limit.
    func admit(_ workload: SPIFFEID) throws(BrokerError) {
        if let wait = limiter.admit(workload.description, now: clock.now) {
            metrics.denied(BrokerError.Code.rateLimited.rawValue)
            throw BrokerError(.rateLimited, "too many requests from this workload", retryAfter: wait)
        }
    }

    /// Runs a store operation, mapping its failures to a bare internal error (logged without secrets); a
    /// ``BrokerError`` passes through.
    func store<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws(BrokerError) -> T {
        do {
            return try await body()
        } catch let error as BrokerError {
            throw error
        } catch let error as PostgresStoreError where error.unavailable {
            logger.warning("the database is unavailable", metadata: ["operation": "\(what)", "error": "\(error)"])
            throw .databaseUnavailable
        } catch let error as PostgresStoreError where error.code == "22021" {
            // PostgreSQL keeps no NUL in text; the request bodies refuse one, so this is text from elsewhere
            // (an identity's claims): the caller's input, not the store's failure.
            logger.notice("text with a NUL character refused by the store", metadata: ["operation": "\(what)"])
            throw BrokerError(.invalidRequest, "a value holds a NUL character, which cannot be kept; remove it")
        } catch {
            logger.error("store operation failed", metadata: ["operation": "\(what)", "error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not complete this in its store; nothing was changed")
        }
    }

    /// Audits an event that stands alone (a denial), at the current time.
    func audit(_ event: AuditEvent, in store: any AuditStore) async throws(BrokerError) {
        let now = clock.now
        _ = try await self.store("audit \(event.event)") { try await store.append(event, at: now) }
    }
}

/// A signal the broker itself saw, counted by the monitoring rules like a verifier's refusal.
struct BrokerSignal: Sendable {
    /// The code, one of ``MonitoringRule/brokerSignals``.
    var code: String
    /// The workload concerned.
    var workload: SPIFFEID
    /// The task, when there is one.
    var task: String?
    /// The task's type.
    var taskType: String?
}
