import Foundation
import GRDB
public import WritToken

/// What lifting a revocation did.
public struct RevocationLift: Sendable, Hashable {
    /// The lift's own feed entry.
    public let entry: Revocation
    /// The workload or user entry it lifts.
    public let lifted: Revocation
    /// False when the entry had been lifted before and this is that earlier lift.
    public let isNew: Bool

    /// The response body.
    public var json: JSONValue {
        .object([
            "revocation": entry.json, "lifted": lifted.json, "sequence": .integer(Int64(entry.sequence)),
            "new": .bool(isNew),
        ])
    }
}

extension Broker {
    /// Lifts a mistaken workload or user revocation: from the next whole second, new tasks and tokens are
    /// allowed again; every token issued before stays revoked, and tasks it closed stay closed. The lift is
    /// a feed entry of its own, so verifiers following the feed accept the workload's new tokens, and it is
    /// audited with its reason. Lifting an entry twice answers with the first lift.
    public func lift(
        _ sequence: UInt64,
        reason: String,
        by actor: String
    ) async throws(BrokerError) -> RevocationLift {
        let now = clock.now
        let outcome: RevocationLift = try await write("lift revocation") { db in
            guard let lifted = try RevocationStore.fetch(db, sequence: sequence), lifted.retainUntil > now else {
                throw BrokerError(.notFound, "no entry \(sequence) is in the feed (it may have lapsed)")
            }
            switch lifted.subject {
            case .workload, .user: break
            default:
                throw BrokerError(
                    .invalidRequest,
                    "only workload and user entries can be lifted; entry \(sequence) is a \(Self.kind(lifted.subject))"
                )
            }
            if let earlier = try RevocationStore.fetchLift(db, of: sequence) {
                return RevocationLift(entry: earlier, lifted: lifted, isNew: false)
            }
            let entry = try RevocationStore.insert(
                db,
                .lift(sequence, from: now),
                revokedAt: now,
                retainUntil: lifted.retainUntil,
                actor: actor
            )
            try AuditLog.append(
                db,
                event: "revocation.lifted",
                actor: actor,
                subject: String(sequence),
                detail: .object([
                    "entry": entry.json, "lifted": lifted.json, "reason": .string(reason),
                ]),
                at: now
            )
            return RevocationLift(entry: entry, lifted: lifted, isNew: true)
        }
        if outcome.isNew {
            metrics.revoked(kind: "lift")
            await publishRevocations()
        }
        return outcome
    }
}
