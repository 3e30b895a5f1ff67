import Foundation
import Logging
import ServiceLifecycle
import WritToken

/// Where brokers share a database: records this broker as alive every few seconds, shares the rate limit
/// among the brokers alive (docs/scaling.md gives the tolerance), and leaves on a graceful shutdown.
struct MembershipService: Service {
    /// How often a broker records itself.
    static let interval: Duration = .seconds(5)
    /// A broker not seen for this long counts as gone: three missed heartbeats.
    static let window: TimeInterval = 15

    let broker: Broker
    let membership: any ClusterMembership
    /// This process's name in the membership table.
    let id = "broker-" + UUID().uuidString.lowercased()

    func run() async throws {
        await cancelWhenGracefulShutdown { await beat() }
        do {
            try await membership.leave(broker: id)
        } catch {
            broker.logger.warning(
                "could not leave the cluster membership; the others count this broker for up to 15 s more",
                metadata: ["error": "\(error)"]
            )
        }
    }

    private func beat() async {
        let context = broker.context
        while !Task.isCancelled {
            do {
                let count = try await membership.heartbeat(broker: id, now: context.clock.now, window: Self.window)
                if count != context.rateLimitSharedAmong {
                    context.shareRateLimit(among: count)
                    broker.logger.notice(
                        "rate limits shared among the brokers alive",
                        metadata: ["brokers": "\(count)"]
                    )
                }
            } catch {
                // The last share stands: a broker that cannot reach the database cannot issue either.
                broker.logger.warning("cluster membership heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: Self.interval)
        }
    }
}
