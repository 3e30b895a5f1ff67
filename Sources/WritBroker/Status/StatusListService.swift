import Crypto
public import Foundation
import Logging
import WritToken

/// Token Status Lists (draft-ietf-oauth-status-list): every token gets an index in a list of its signing key,
/// its bit set in the commit of whatever revokes it, and the lists are served signed, from memory.
///
/// Indices are reserved from the store in blocks, so issuing a token costs no extra write most of the time; a
/// block left unused when a broker stops is never handed out again. A list is rebuilt from the store only when
/// the revocation feed has moved since it was built (every revocation that sets a bit also appends to the
/// feed, in the same commit) or when half its validity has passed.
public actor StatusListService {
    /// Indices a list holds: 2^20, one million tokens in 128 KiB before compression.
    public static let listSize = 1 << 20
    /// How long a served list is valid (`exp - iat`); it is re-signed when half of it has passed.
    public static let validity: TimeInterval = 3600
    /// The path under which lists are served; a list's URI is the issuer, this path and the list's id.
    public static let path = "/v1/status-lists"

    private let context: BrokerContext
    private let store: any StatusListStore
    private let keys: KeyService
    private let feed: RevocationFeed
    private let blockSize: Int
    private var blocks: [String: StatusBlock] = [:]
    private var served: [String: ServedList] = [:]

    /// A list as served: the signed token, its entity tag, and what it was built from.
    public struct ServedList: Sendable {
        /// The signed `statuslist+jwt`.
        public let token: String
        /// A strong entity tag of the token.
        public let entityTag: String
        /// Seconds a relying party may cache it.
        public let timeToLive: Int
        let feedSequence: UInt64
        let keyID: String
        let issuedAt: Date
        let revoked: [Int]

        func seen(through sequence: UInt64) -> ServedList {
            ServedList(
                token: token,
                entityTag: entityTag,
                timeToLive: timeToLive,
                feedSequence: sequence,
                keyID: keyID,
                issuedAt: issuedAt,
                revoked: revoked
            )
        }
    }

    init(context: BrokerContext, store: any StatusListStore, keys: KeyService, feed: RevocationFeed, blockSize: Int) {
        self.context = context
        self.store = store
        self.keys = keys
        self.feed = feed
        self.blockSize = blockSize
    }

    /// The `status` claim of a new token signed by `keyID`, with the slot its record keeps.
    func allocate(keyID: String) async throws(BrokerError) -> (StatusListReference, StatusSlot) {
        if let block = blocks[keyID], !block.indices.isEmpty {
            blocks[keyID] = StatusBlock(list: block.list, indices: block.indices.dropFirst())
            return reference(StatusSlot(list: block.list, index: block.indices.lowerBound))
        }
        let block = try await reserve(keyID: keyID, count: blockSize)
        // Another call may have refilled the block while this one waited; both blocks are good, keep the new one.
        blocks[keyID] = StatusBlock(list: block.list, indices: block.indices.dropFirst())
        return reference(StatusSlot(list: block.list, index: block.indices.lowerBound))
    }

    nonisolated private func reserve(keyID: String, count: Int) async throws(BrokerError) -> StatusBlock {
        let now = context.clock.now
        return try await context.store("reserve status indices") {
            try await store.reserve(keyID: keyID, count: count, size: Self.listSize, at: now)
        }
    }

    nonisolated private func read(_ id: String) async throws(BrokerError) -> (StatusListRecord, [Int])? {
        try await context.store("read status list") {
            guard let record = try await store.fetch(list: id) else { return nil }
            return (record, try await store.revokedIndices(list: id))
        }
    }

    private func reference(_ slot: StatusSlot) -> (StatusListReference, StatusSlot) {
        (StatusListReference(index: slot.index, uri: uri(of: slot.list)), slot)
    }

    /// Where a list is served.
    nonisolated func uri(of list: String) -> String { context.settings.issuer + Self.path + "/" + list }

    /// The list `id` as served now; nil when there is no such list.
    public func list(_ id: String) async throws(BrokerError) -> ServedList? {
        // Read before the store, so an entry committed meanwhile makes the next request look again.
        let sequence = feed.lastSequence
        let signing = keys.current.active
        let now = context.clock.now
        if let cached = served[id], cached.feedSequence == sequence, cached.keyID == signing.id,
            now.timeIntervalSince(cached.issuedAt) < Self.validity / 2
        {
            return cached
        }
        guard let (record, recorded) = try await read(id) else { return nil }
        // A key no longer published (retired, or revoked with every other key by an immediate rotation) has all
        // of its lists revoked: any token of it, recorded or forged with a stolen key at an index never handed
        // out, is refused by a list that is up to date.
        let keyGone = keys.current.published.key(id: record.keyID) == nil
        // -1 stands for every index, so a cached list of a gone key compares equal to the next build of it.
        let revoked = keyGone ? [-1] : recorded
        if let cached = served[id], cached.revoked == revoked, cached.keyID == signing.id,
            now.timeIntervalSince(cached.issuedAt) < Self.validity / 2
        {
            // The feed moved but no bit of this list did: the same token, so conditional requests still match.
            let unchanged = cached.seen(through: sequence)
            served[id] = unchanged
            return unchanged
        }
        var bits = StatusList(count: record.size)
        if keyGone {
            bits.setAll(StatusList.Status.invalid.rawValue)
        } else {
            for index in revoked where index < record.size { bits.set(StatusList.Status.invalid.rawValue, at: index) }
        }
        let ttl = context.settings.tokens.statusListTTL
        let content = StatusListToken(
            uri: uri(of: id),
            issuer: context.settings.issuer,
            issuedAt: now,
            expiresAt: now.addingTimeInterval(Self.validity),
            timeToLive: ttl,
            list: bits
        )
        let token: String
        do {
            token = try content.signed(with: signing)
        } catch {
            context.logger.error("signing a status list failed", metadata: ["error": "\(error.code)"])
            throw BrokerError(.internalError, "the status list could not be signed")
        }
        let digest = SHA256.hash(data: Array(token.utf8))
        let tag = "\"" + Base64URL.encode(Array(digest.prefix(16))) + "\""
        let list = ServedList(
            token: token,
            entityTag: tag,
            timeToLive: ttl,
            feedSequence: sequence,
            keyID: signing.id,
            issuedAt: now,
            revoked: revoked
        )
        served[id] = list
        return list
    }
}
