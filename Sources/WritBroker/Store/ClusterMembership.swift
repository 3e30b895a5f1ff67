public import Foundation

/// Which brokers share the database now, so that a limit configured for the cluster is shared among them.
/// Each broker records itself every few seconds; a broker not seen within the window counts as gone.
public protocol ClusterMembership: Sendable {
    /// Records broker `id` as alive at `now` and returns how many brokers were seen within `window` before
    /// `now` (itself included, so at least 1).
    func heartbeat(broker id: String, now: Date, window: TimeInterval) async throws -> Int
    /// Removes broker `id`'s record, on a graceful shutdown, so the others share among fewer at once.
    func leave(broker id: String) async throws
}

/// One broker at a time through the first start's steps (making the first signing key, the first operator),
/// where several brokers start together on one new database.
public protocol StartupSerialization: Sendable {
    /// Runs `body` while no other broker on the database runs its own.
    func serialized<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T
}
