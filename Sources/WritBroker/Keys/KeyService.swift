import Foundation
import Logging
import Synchronization
import WritToken

/// The key verbs: the keys in use, a rotation (planned, or immediate after a compromise), and the switch to a
/// published key and the retirement of old ones as their times come.
public final class KeyService: Sendable {
    let context: BrokerContext
    let store: any KeyStore
    let feed: RevocationFeed
    private let state: Mutex<SigningKeys>

    init(context: BrokerContext, store: any KeyStore, feed: RevocationFeed, keys: SigningKeys) {
        self.context = context
        self.store = store
        self.feed = feed
        self.state = Mutex(keys)
    }

    /// The keys signing and published now.
    public var current: SigningKeys { state.withLock { $0 } }

    /// Every key recorded, and the id of the one signing now.
    public func records() async throws(BrokerError) -> (records: [SigningKeyRecord], activeID: String) {
        let records = try await context.store("list keys") { try await store.list() }
        return (records, current.active.id)
    }

    /// Keys retire this long after their last token could have expired: verifiers allow 30 s of skew, and the
    /// switch itself happens on the next maintenance tick.
    static let retirementMargin: TimeInterval = 60

    /// The longest a verifier keeps a key it no longer sees in the JWKS: its periodic refresh (300 s) and the
    /// grace it allows failed refreshes. A key entry outlives it.
    static let verifierRefreshBound: TimeInterval = 900

    /// Rotates the signing key: a new key is published now and signs after the publish lead (or at once,
    /// `immediately`, which also retires every other key now and tells verifiers through the feed).
    public func rotate(by actor: String, immediately: Bool = false) async throws(BrokerError) -> KeyRotation {
        guard let directory = context.settings.keyDirectory else {
            throw BrokerError(.internalError, "this broker has no key directory")
        }
        try await advance()
        let now = context.clock.now
        if !immediately,
            let pending = try await context.store("keys", { try await store.listUnretired() })
                .first(where: { !$0.signs(at: now) })
        {
            throw Self.pending(pending)
        }
        let (key, file) = try generateKey(in: directory)
        let settings = context.settings
        let activatesAt = immediately ? now : now.addingTimeInterval(settings.keyPublishLead)
        // Tokens signed until activation live at most the maximum lifetime past it.
        let retiresAt =
            immediately ? now : activatesAt.addingTimeInterval(settings.maximumTokenLifetime + Self.retirementMargin)
        let record = SigningKeyRecord(
            id: key.id,
            algorithm: "ES256",
            file: file,
            createdAt: now,
            activatesAt: activatesAt
        )
        let previous: String
        do {
            previous = try await recordRotation(to: record, immediately: immediately, retiresAt: retiresAt, by: actor)
        } catch {
            // Nothing recorded: the new key's file goes too.
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
            throw error
        }
        try await advance()
        if immediately {
            context.metrics.revoked(kind: "key")
            await feed.publish(logger: context.logger)
        }
        return KeyRotation(
            newKey: key.id,
            activatesAt: activatesAt,
            previousKey: previous,
            previousRetiresAt: retiresAt
        )
    }

    /// A new key, written to the key directory (its record comes after, in the rotation's commit).
    private func generateKey(in directory: URL) throws(BrokerError) -> (SigningKey, file: String) {
        do {
            return try SigningKeys.generate(directory: directory)
        } catch {
            context.logger.error("writing a signing key failed", metadata: ["error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not write a new key; nothing was changed")
        }
    }

    /// Records a rotation in one commit; the key that signed until now.
    private func recordRotation(
        to record: SigningKeyRecord,
        immediately: Bool,
        retiresAt: Date,
        by actor: String
    ) async throws(BrokerError) -> String {
        let settings = context.settings
        let now = record.createdAt
        // As long as the key's tokens, and at least as long as a verifier's periodic JWKS refresh.
        let entryRetention = max(settings.maximumTokenLifetime, Self.verifierRefreshBound) + Self.retirementMargin
        let written = try await context.store("rotate key") {
            try await store.rotate(
                to: record,
                immediately: immediately,
                retiresAt: retiresAt,
                keyEntryRetention: entryRetention,
                actor: actor,
                at: now
            )
        }
        switch written {
        case .rotated(let previous, _): return previous
        case .pending(let pending): throw Self.pending(pending)
        case .noSigningKey: throw BrokerError(.internalError, "no recorded key signs now")
        }
    }

    private static func pending(_ record: SigningKeyRecord) -> BrokerError {
        BrokerError(
            .rotationPending,
            "key \(record.id) is published and starts signing at "
                + "\(record.activatesAt.map { ISO8601DateFormatter().string(from: $0) } ?? "-"); rotate again after that"
        )
    }

    /// Switches to a published key whose time has come and retires keys whose last token has expired; the
    /// keys in use change only when the records do. Every tick reads; only a retirement writes. A broker that
    /// does not lead its cluster passes `retiring: false`: it follows the records and leaves retiring to the leader.
    public func advance(retiring: Bool = true) async throws(BrokerError) {
        guard let directory = context.settings.keyDirectory else { return }
        let now = context.clock.now
        var records = try await context.store("keys") { try await store.listUnretired() }
        let due = Self.due(records, now: now)
        if retiring, !due.isEmpty {
            records = try await context.store("retire keys") { try await store.retire(due, at: now) }
        } else {
            // Due keys are published by no broker, whether or not the leader has recorded their retirement yet:
            // every broker of a cluster publishes the same keys once it has read the same records.
            records.removeAll { due.contains($0.id) }
        }
        let keys = current
        let activeNow = records.last(where: { $0.signs(at: now) })?.id
        guard records != keys.records || activeNow != keys.active.id else { return }
        do {
            let loaded = try SigningKeys.load(records: records, directory: directory, now: now)
            state.withLock { $0 = loaded }
            context.logger.notice(
                "signing keys changed",
                metadata: ["active": "\(loaded.active.id)", "published": "\(loaded.records.map(\.id))"]
            )
        } catch {
            context.logger.error("loading signing keys failed; the previous set stays", metadata: ["error": "\(error)"])
            throw BrokerError(.internalError, "the broker could not load its signing keys")
        }
    }

    /// The keys due to retire: not signing, and past their retirement time.
    static func due(_ records: [SigningKeyRecord], now: Date) -> [String] {
        let signing = records.last(where: { $0.signs(at: now) })?.id
        return records.compactMap { record in
            guard record.id != signing, let retiresAt = record.retiresAt, SigningKeyRecord.reached(retiresAt, at: now)
            else { return nil }
            return record.id
        }
    }
}
