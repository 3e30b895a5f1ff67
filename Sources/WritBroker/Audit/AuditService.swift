/// The audit verbs operators use: read the log, and check its chain.
public final class AuditService: Sendable {
    let context: BrokerContext
    let store: any AuditStore

    init(context: BrokerContext, store: any AuditStore) {
        self.context = context
        self.store = store
    }

    /// Up to `limit` entries after `sequence`, oldest first.
    public func entries(after sequence: Int64, limit: Int) async throws(BrokerError) -> [AuditEntry] {
        try await context.store("audit page") { try await store.list(after: sequence, limit: max(1, min(limit, 1000))) }
    }

    /// The last `count` entries, oldest first.
    public func latest(_ count: Int) async throws(BrokerError) -> [AuditEntry] {
        guard count > 0 else { return [] }
        return try await context.store("audit tail") { try await store.listLatest(count) }
    }

    /// Walks the whole chain, from an outside anchor when given (``BrokerError/Code/anchorPruned`` when the
    /// anchor is older than what pruning kept).
    public func verify(against anchor: AuditLog.Anchor? = nil) async throws(BrokerError) -> AuditLog.Report {
        do {
            return try await context.store("audit verify") {
                do {
                    return try await store.report(against: anchor)
                } catch let pruned as AuditLog.AnchorPruned {
                    throw BrokerError(.anchorPruned, pruned.description)
                }
            }
        }
    }
}
