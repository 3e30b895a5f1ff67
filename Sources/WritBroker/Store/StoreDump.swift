public import Foundation
import WritPolicy
import WritToken

/// Everything a store holds, read whole: what `writ store migrate` carries from one engine to another. Numbers
/// (feed sequence, audit sequence) and hashes travel unchanged, so verifiers following the feed and anchors of
/// the audit chain stay valid across the move.
public struct StoreDump: Sendable {
    /// Tasks, parents before their sub-tasks.
    var tasks: [BrokerTask] = []
    var tokens: [IssuedToken] = []
    /// Feed entries in order, each with the actor that made it.
    var revocations: [(entry: Revocation, actor: String)] = []
    /// The last feed number ever given (entries after the last stored one may have been pruned).
    var revocationsLast: UInt64 = 0
    /// Audit entries in order.
    var audit: [AuditEntry] = []
    /// The last audit entry pruned, which the rest of the chain follows.
    var auditAnchor: AuditLog.Anchor?
    /// The last audit number ever given.
    var auditLast: Int64 = 0
    var keys: [SigningKeyRecord] = []
    var operators: [OperatorRecord] = []
    /// Spent DPoP proofs: expiry (milliseconds) and digest.
    var proofs: [(expiresAt: Int64, digest: String)] = []
    /// Token Status Lists, with the next index each hands out (so no index is handed out twice after the move).
    var statusLists: [StatusListRecord] = []
    /// The tokens whose status is revoked.
    var revokedTokens: [String] = []
    /// Shared Signals streams, with their cursors.
    var signalStreams: [SignalStream] = []
    /// Monitoring alerts, oldest first, with their numbers.
    var alerts: [MonitoringAlert] = []
    /// Usage baselines.
    var baselines: [UsageBaseline] = []

    /// How many of each the dump holds.
    public var counts: [(String, Int)] {
        [
            ("tasks", tasks.count), ("tokens", tokens.count), ("feed entries", revocations.count),
            ("audit entries", audit.count), ("signing keys", keys.count), ("operators", operators.count),
            ("spent DPoP proofs", proofs.count), ("status lists", statusLists.count),
            ("signal streams", signalStreams.count), ("monitoring alerts", alerts.count),
            ("usage baselines", baselines.count),
        ]
    }
}
