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
    /// published until its last possible token has expired. One rotation at a time.
    public func rotateSigningKey(by actor: String) async throws(BrokerError) -> KeyRotation {
        guard let directory = settings.keyDirectory else {
            throw BrokerError(.internalError, "this broker has no key directory")
        }
        let now = clock.now
        let current = signingKeys
        if let pending = current.records.first(where: { ($0.activatesAt ?? .distantPast) > now }) {
            throw BrokerError(
                .rotationPending,
                "key \(pending.id) is published and starts signing at \(pending.activatesAt.map(Self.timestamp) ?? "-"); "
                    + "rotate again after that"
            )
        }
        let generated: (SigningKey, file: String)
        do {
            generated = try SigningKeys.generate(directory: directory)
        } catch {
            logger.error("writing a signing key failed", metadata: ["error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not write a new key; nothing was changed")
        }
        let activatesAt = now.addingTimeInterval(settings.keyPublishLead)
        // Tokens signed until activation live at most the maximum lifetime past it.
        let retiresAt = activatesAt.addingTimeInterval(settings.maximumTokenLifetime)
        let previous = current.active.id
        let (key, file) = generated
        try await write("rotate key") { db in
            try SigningKeys.record(db, key, file: file, activatesAt: activatesAt, actor: actor, now: now)
            try db.execute(
                sql: "UPDATE signing_keys SET retires_at = ? WHERE kid = ? AND retired_at IS NULL",
                arguments: [retiresAt.timeIntervalSince1970, previous]
            )
            try AuditLog.append(
                db,
                event: "key.rotated",
                actor: actor,
                subject: key.id,
                detail: .object([
                    "previous": .string(previous), "activates_at": .integer(activatesAt.numericDate),
                    "previous_retires_at": .integer(retiresAt.numericDate),
                ]),
                at: now
            )
        }
        try await advanceSigningKeys()
        return KeyRotation(
            newKey: key.id,
            activatesAt: activatesAt,
            previousKey: previous,
            previousRetiresAt: retiresAt
        )
    }

    /// Brings the keys in use up to date with the clock: retires keys whose last token has expired and lets a
    /// published key start signing once its time has come. Run on every maintenance tick; cheap when nothing
    /// changes.
    public func advanceSigningKeys() async throws(BrokerError) {
        guard let directory = settings.keyDirectory else { return }
        let now = clock.now
        let records = try await write("advance keys") { db in
            let due = try String.fetchAll(
                db,
                sql: "SELECT kid FROM signing_keys WHERE retired_at IS NULL AND retires_at <= ?",
                arguments: [now.timeIntervalSince1970]
            )
            for kid in due {
                try db.execute(
                    sql: "UPDATE signing_keys SET retired_at = ? WHERE kid = ?",
                    arguments: [now.timeIntervalSince1970, kid]
                )
                try AuditLog.append(db, event: "key.retired", actor: "broker", subject: kid, at: now)
            }
            return try SigningKeys.unretired(db)
        }
        let current = signingKeys
        let activeNow = records.last(where: { ($0.activatesAt ?? .distantPast) <= now })?.id
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

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
