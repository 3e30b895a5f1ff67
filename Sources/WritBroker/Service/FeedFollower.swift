import Logging
import ServiceLifecycle

/// Runs the cluster leadership of a shared database (which broker does the background work).
struct LeadershipService: Service {
    let leadership: any ClusterLeadership

    func run() async throws {
        await cancelWhenGracefulShutdown { await leadership.run() }
    }
}

/// Where brokers share a database: brings this broker's revocation view and stream subscribers up to the
/// store as soon as any broker commits a feed entry, instead of at the next tick.
struct FeedFollower: Service {
    let broker: Broker
    let notifier: any FeedNotifier

    func run() async throws {
        let broker = self.broker
        await cancelWhenGracefulShutdown {
            await notifier.follow { sequence in
                // Entries arrive in bursts; one catch-up covers every entry up to the newest.
                if let sequence, sequence <= broker.feed.lastSequence { return }
                await broker.feed.publish(logger: broker.logger)
            }
        }
    }
}
