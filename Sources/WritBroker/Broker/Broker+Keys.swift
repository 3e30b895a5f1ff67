public import Foundation
import GRDB
import Logging
public import WritToken

/// What a rotation did.
public struct KeyRotation: Sendable, Hashable {
    /// The new key's id, published now.
    public let newKey: String
    /// When it starts signing.
    public let activatesAt: Date
    /// The key signing until then.
    public let previousKey: String
    /// When the previous key leaves the JWKS: once every token it can have signed has expired.
    public let previousRetiresAt: Date

    /// The response body.
    public var json: JSONValue {
        .object([
            "kid": .string(newKey),
            "activates_at": .integer(activatesAt.numericDate),
            "previous_kid": .string(previousKey),
            "previous_retires_at": .integer(previousRetiresAt.numericDate),
        ])
    }
}

extension Broker {
    /// Every key ever recorded, with its state, and the id of the key signing now.
    public func keyRecords() async throws(BrokerError) -> (records: [SigningKeyRecord], activeID: String) {
        let records = try await read("list keys") { db in try SigningKeys.all(db) }
        return (records, signingKeys.active.id)
    }

    /// Rotates the signing key: a new key is published now and signs after ``Settings/keyPublishLead`` (so
    /// verifiers refreshing their JWKS on a shorter interval know it first); the key signing now is kept
    /// published until its last possible token has expired (plus the verifiers' clock skew and a tick). One
    /// rotation at a time, checked against the database, so concurrent calls and replicas agree.
    ///
    /// `immediately` is for a compromised key: the new key signs at once and every other key (the one signing,
    /// older ones still published, one waiting to sign) leaves the JWKS at once, so verifiers refuse everything
    /// they signed (valid tokens included) from their next JWKS refresh. It overrides a pending rotation.
    public func rotateSigningKey(
        by actor: String,
        immediately: Bool = false
    ) async throws(BrokerError)
        -> KeyRotation
    {
        guard let directory = settings.keyDirectory else {
            throw BrokerError(.internalError, "this broker has no key directory")
        }
        try await advanceSigningKeys()
        let now = clock.now
        if !immediately {
            try Self.refuseIfPending(try await read("keys") { db in try SigningKeys.unretired(db) }, now: now)
        }
        let generated: (SigningKey, file: String)
        do {
            generated = try SigningKeys.generate(directory: directory)
        } catch {
            logger.error("writing a signing key failed", metadata: ["error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not write a new key; nothing was changed")
        }
        let (key, file) = generated
        let activatesAt = immediately ? now : now.addingTimeInterval(settings.keyPublishLead)
        // Tokens signed until activation live at most the maximum lifetime past it; verifiers allow 30 s of
        // skew, and the switch itself happens on the next maintenance tick.
        let retiresAt =
            immediately ? now : activatesAt.addingTimeInterval(settings.maximumTokenLifetime + Self.retirementMargin)
        let previous: String
        let maximumLifetime = settings.maximumTokenLifetime
        do {
            previous = try await write("rotate key") { db in
                let records = try SigningKeys.unretired(db)
                if !immediately { try Self.refuseIfPending(records, now: now) }
                guard let signing = records.last(where: { $0.signs(at: now) }) else {
                    throw BrokerError(.internalError, "no recorded key signs now")
                }
                try SigningKeys.record(db, key, file: file, activatesAt: activatesAt, actor: actor, now: now)
                // Normally only the key signing now is replaced. A compromise retires every other key now:
                // older ones still published for their tokens, and one waiting to sign.
                try db.execute(
                    sql: "UPDATE signing_keys SET retires_at = ? WHERE retired_at IS NULL AND "
                        + (immediately ? "kid <> ?" : "kid = ?"),
                    arguments: [retiresAt.timeIntervalSince1970, immediately ? key.id : signing.id]
                )
                var detail: [String: JSONValue] = [
                    "previous": .string(signing.id), "activates_at": .integer(activatesAt.numericDate),
                    "previous_retires_at": .integer(retiresAt.numericDate),
                ]
                if immediately {
                    detail["immediately"] = .bool(true)
                    // A compromised key travels like a revocation: verifiers following the feed drop it at
                    // once instead of at their next key refresh.
                    var entries: [JSONValue] = []
                    for record in records {
                        let entry = try RevocationStore.insert(
                            db,
                            .key(record.id),
                            revokedAt: now,
                            // As long as the key's tokens, and at least as long as a verifier's periodic JWKS
                            // refresh (which then drops the key) plus its failures' grace.
                            retainUntil: now.addingTimeInterval(
                                max(maximumLifetime, Self.verifierRefreshBound) + Self.retirementMargin
                            ),
                            actor: actor
                        )
                        entries.append(.integer(Int64(entry.sequence)))
                    }
                    detail["revocations"] = .array(entries)
                }
                try AuditLog.append(
                    db,
                    event: "key.rotated",
                    actor: actor,
                    subject: key.id,
                    detail: .object(detail),
                    at: now
                )
                return signing.id
            }
        } catch {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
            throw error
        }
        try await advanceSigningKeys()
        if immediately {
            metrics.revoked(kind: "key")
            await publishRevocations()
        }
        return KeyRotation(
            newKey: key.id,
            activatesAt: activatesAt,
            previousKey: previous,
            previousRetiresAt: retiresAt
        )
    }

    /// Seconds a replaced key stays published beyond its tokens' maximum lifetime: the verifiers' 30 s clock
    /// skew and slack for the maintenance tick.
    static let retirementMargin: TimeInterval = 60

    /// Longer than `WritVerifier`'s 300 s periodic key refresh, with room for a failed refresh or two.
    static let verifierRefreshBound: TimeInterval = 900

    static func refuseIfPending(_ records: [SigningKeyRecord], now: Date) throws(BrokerError) {
        guard let pending = records.first(where: { !$0.signs(at: now) }) else { return }
        throw BrokerError(
            .rotationPending,
            "key \(pending.id) is published and starts signing at \(pending.activatesAt.map(timestamp) ?? "-"); "
                + "rotate again after that"
        )
    }

    /// Brings the keys in use up to date with the clock: retires keys whose last token has expired and lets a
    /// published key start signing once its time has come. Run on every maintenance tick; cheap when nothing
    /// changes. The key that signs (the newest whose activation has come) is never retired.
    public func advanceSigningKeys() async throws(BrokerError) {
        guard let directory = settings.keyDirectory else { return }
        let now = clock.now
        // Every tick reads; only a retirement writes.
        var records = try await read("keys") { db in try SigningKeys.unretired(db) }
        if Self.due(records, now: now).isEmpty == false {
            records = try await write("retire keys") { db in
                for id in Self.due(try SigningKeys.unretired(db), now: now) {
                    try db.execute(
                        sql: "UPDATE signing_keys SET retired_at = ? WHERE kid = ?",
                        arguments: [now.timeIntervalSince1970, id]
                    )
                    try AuditLog.append(db, event: "key.retired", actor: "broker", subject: id, at: now)
                }
                return try SigningKeys.unretired(db)
            }
        }
        let current = signingKeys
        let activeNow = records.last(where: { $0.signs(at: now) })?.id
        guard records != current.records || activeNow != current.active.id else { return }
        do {
            let keys = try SigningKeys.load(records: records, directory: directory, now: now)
            install(keys)
            logger.notice(
                "signing keys changed",
                metadata: ["active": "\(keys.active.id)", "published": "\(keys.records.map(\.id))"]
            )
        } catch {
            logger.error("loading signing keys failed; the previous set stays", metadata: ["error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not load its signing keys")
        }
    }

    /// The keys whose retirement time has come, except the one that signs.
    static func due(_ records: [SigningKeyRecord], now: Date) -> [String] {
        let signing = records.last(where: { $0.signs(at: now) })?.id
        return records.compactMap { record in
            guard record.id != signing, let retiresAt = record.retiresAt,
                SigningKeyRecord.reached(retiresAt, at: now)
            else { return nil }
            return record.id
        }
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
