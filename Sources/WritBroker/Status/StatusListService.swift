import Crypto
public import Foundation
import Logging
import WritToken

/// Token Status Lists (draft-ietf-oauth-status-list): every token gets an index in a list of its signing key,
/// its bit set in the commit of whatever revokes it, and the lists are served signed, from memory.
///
/// Indices are reserved from the store in blocks, one reservation at a time per key, so issuing a token costs no
/// extra write most of the time; a block left unused when a broker stops is never handed out again. A list is
/// rebuilt from the store only when the revocation feed has moved since it was built (every revocation that sets
/// a bit also appends to the feed, in the same commit) or when half its validity has passed; one build at a time
/// per list, off the path that hands out indices.
public final class StatusListService: Sendable {
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
    private let allocator = Allocator()
    private let cache = Cache()

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
        /// The revoked indices it was built from; `[-1]` when its key is gone and every index is revoked.
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

        /// Whether it may be served again as it is.
        func isCurrent(signedBy key: String, at now: Date) -> Bool {
            keyID == key && now.timeIntervalSince(issuedAt) < StatusListService.validity / 2
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
        let count = blockSize
        let slot: StatusSlot
        do {
            slot = try await allocator.next(keyID: keyID) { try await self.reserve(keyID: keyID, count: count) }
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.internalError, "no status index could be reserved")
        }
        return (StatusListReference(index: slot.index, uri: uri(of: slot.list)), slot)
    }

    private func reserve(keyID: String, count: Int) async throws(BrokerError) -> StatusBlock {
        let now = context.clock.now
        return try await context.store("reserve status indices") {
            try await store.reserve(keyID: keyID, count: count, size: Self.listSize, at: now)
        }
    }

    /// Where a list is served.
    func uri(of list: String) -> String { context.settings.issuer + Self.path + "/" + list }

    /// The list `id` as served now; nil when there is no such list.
    public func list(_ id: String) async throws(BrokerError) -> ServedList? {
        // Read before the store, so an entry committed meanwhile makes the next request look again.
        let sequence = feed.lastSequence
        let signing = keys.current.active
        let now = context.clock.now
        if let cached = await cache.served(id), cached.feedSequence == sequence,
            cached.isCurrent(signedBy: signing.id, at: now)
        {
            return cached
        }
        do {
            return try await cache.single(id) {
                try await self.build(id, sequence: sequence, signing: signing, now: now)
            }
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.internalError, "the status list could not be built")
        }
    }

    /// Reads a list's revoked indices and signs it, unless the copy held has the same bits.
    private func build(
        _ id: String,
        sequence: UInt64,
        signing: SigningKey,
        now: Date
    ) async throws(BrokerError) -> ServedList? {
        let found = try await context.store("read status list") { () async throws -> (StatusListRecord, [Int])? in
            guard let record = try await store.fetch(list: id) else { return nil }
            return (record, try await store.revokedIndices(list: id))
        }
        guard let (record, recorded) = found else { return nil }
        // A key no longer published (retired, or revoked with every other key by an immediate rotation) has all
        // of its lists revoked: any token of it, recorded or forged with a stolen key at an index never handed
        // out, is refused by a list that is up to date.
        let keyGone = keys.current.published.key(id: record.keyID) == nil
        let revoked = keyGone ? [-1] : recorded
        if let cached = await cache.served(id), cached.revoked == revoked,
            cached.isCurrent(signedBy: signing.id, at: now)
        {
            // The feed moved but no bit of this list did: the same token, so conditional requests still match.
            return cached.seen(through: sequence)
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
        return ServedList(
            token: token,
            entityTag: "\"" + Base64URL.encode(Array(digest.prefix(16))) + "\"",
            timeToLive: ttl,
            feedSequence: sequence,
            keyID: signing.id,
            issuedAt: now,
            revoked: revoked
        )
    }

    /// The blocks of indices being handed out, one per key, refilled by one reservation at a time: a caller that
    /// finds a refill under way waits for it instead of reserving a block of its own.
    private actor Allocator {
        private var blocks: [String: StatusBlock] = [:]
        private var waiting: [String: [CheckedContinuation<Void, any Error>]] = [:]

        func next(keyID: String, reserve: @escaping @Sendable () async throws -> StatusBlock) async throws -> StatusSlot
        {
            while true {
                if let block = blocks[keyID], let index = block.indices.first {
                    blocks[keyID] = StatusBlock(list: block.list, indices: block.indices.dropFirst())
                    return StatusSlot(list: block.list, index: index)
                }
                if waiting[keyID] != nil {
                    try await withCheckedThrowingContinuation { waiting[keyID]?.append($0) }
                    continue
                }
                waiting[keyID] = []
                let result: Result<StatusBlock, any Error>
                do { result = .success(try await reserve()) } catch { result = .failure(error) }
                let waiters = waiting.removeValue(forKey: keyID) ?? []
                switch result {
                case .success(let block):
                    blocks[keyID] = block
                    for waiter in waiters { waiter.resume() }
                case .failure(let error):
                    for waiter in waiters { waiter.resume(throwing: error) }
                    throw error
                }
            }
        }
    }

    /// The lists served, and the builds under way, one per list: a request that finds a build under way waits for
    /// its list instead of building one of its own.
    private actor Cache {
        private var lists: [String: ServedList] = [:]
        private var waiting: [String: [CheckedContinuation<ServedList?, any Error>]] = [:]

        func served(_ id: String) -> ServedList? { lists[id] }

        func single(
            _ id: String,
            _ work: @escaping @Sendable () async throws -> ServedList?
        ) async throws -> ServedList? {
            if waiting[id] != nil {
                return try await withCheckedThrowingContinuation { waiting[id]?.append($0) }
            }
            waiting[id] = []
            let result: Result<ServedList?, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            if case .success(let list?) = result { lists[id] = list }
            for waiter in waiting.removeValue(forKey: id) ?? [] { waiter.resume(with: result) }
            return try result.get()
        }
    }
}
