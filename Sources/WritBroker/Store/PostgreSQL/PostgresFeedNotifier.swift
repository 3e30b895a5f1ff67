import Foundation
import Logging
import PostgresNIO

/// Feed wake-ups over PostgreSQL's LISTEN/NOTIFY: every feed entry's transaction notifies the channel
/// `writ_feed` with its number, which PostgreSQL delivers at commit, in commit order, to every listening
/// broker. One pooled connection per broker listens; when it drops, the broker reconnects and catches up.
struct PostgresFeedNotifier: FeedNotifier {
    static let channel = "writ_feed"
    let database: PostgresDatabase

    init(_ database: PostgresDatabase) { self.database = database }

    func follow(_ wake: @escaping @Sendable (UInt64?) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        // Listening now: anything committed before is caught up by sequence.
                        await wake(nil)
                        for try await notification in notifications {
                            await wake(UInt64(notification.payload))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                database.logger.warning(
                    "listening for other brokers' feed entries failed; retrying (ticks still catch up)",
                    metadata: ["error": "\(PostgresStoreError(error, doing: "listen on \(Self.channel)"))"]
                )
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
