import AsyncHTTPClient
public import Foundation
public import Logging
public import ServiceLifecycle
import WritToken

/// The broker's background work, as one service: every `interval` it expires due tasks, sends feed
/// heartbeats, brings signing keys up to date (rotation), and reloads changed identity keys; every `pruneInterval` it prunes. On graceful shutdown it
/// ends the feed streams so the server can drain.
public struct MaintenanceService: Service {
    let broker: Broker
    let interval: Duration
    let pruneInterval: Duration
    let keyRefreshInterval: Duration
    let auditRetention: TimeInterval
    let logger: Logger

    /// A maintenance service.
    public init(
        broker: Broker,
        interval: Duration = .seconds(1),
        pruneInterval: Duration = .seconds(10),
        keyRefreshInterval: Duration = .seconds(300),
        auditRetention: TimeInterval,
        logger: Logger
    ) {
        self.broker = broker
        self.interval = interval
        self.pruneInterval = pruneInterval
        self.keyRefreshInterval = keyRefreshInterval
        self.auditRetention = auditRetention
        self.logger = logger
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var lastPrune = clock.now
        var lastKeyRefresh = clock.now
        defer { broker.feed.finishAll() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A graceful shutdown ends the wait at once rather than after up to a whole tick.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            // Where brokers share a database, one of them expires, retires and prunes for all.
            let leads = broker.stores.leadership?.isLeader ?? true
            if leads {
                do {
                    let expired = try await broker.tasks.expireDue()
                    if expired > 0 { logger.info("tasks expired", metadata: ["count": "\(expired)"]) }
                } catch {
                    logger.error("expiring tasks failed", metadata: ["error": "\(error)"])
                }
            }
            await broker.feed.publish(logger: broker.logger)
            do {
                try await broker.keys.advance(retiring: leads)
            } catch {
                logger.error("advancing signing keys failed", metadata: ["error": "\(error)"])
            }
            if clock.now - lastPrune >= pruneInterval {
                // Every broker keeps the baselines of the reports it receives.
                await broker.monitoring.maintain()
            }
            if !leads, clock.now - lastPrune >= pruneInterval {
                lastPrune = clock.now
                broker.pruneMemory(now: broker.clock.now)
            }
            if leads, clock.now - lastPrune >= pruneInterval {
                lastPrune = clock.now
                do {
                    let removed = try await broker.prune(auditRetention: auditRetention)
                    if removed > 0 { logger.debug("pruned", metadata: ["rows": "\(removed)"]) }
                } catch {
                    logger.error("pruning failed", metadata: ["error": "\(error)"])
                }
            }
            // Files are checked every tick (cheap: size and time); URLs only every refresh interval.
            let force = clock.now - lastKeyRefresh >= keyRefreshInterval
            if force { lastKeyRefresh = clock.now }
            await broker.identities.refresh(client: HTTPClient.shared, logger: logger, onlyFiles: !force)
            broker.certificates.reloadTrustBundles()
        }
    }
}
