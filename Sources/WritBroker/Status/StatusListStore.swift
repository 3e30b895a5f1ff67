public import Foundation

/// A Token Status List as the store keeps it: one per signing key and epoch, handing out its indices in order.
public struct StatusListRecord: Sendable, Hashable {
    /// The signing key whose tokens it holds.
    public let keyID: String
    /// Its number among the key's lists, from 0.
    public let epoch: Int
    /// How many indices it has.
    public let size: Int
    /// The next index it hands out; `size` once full.
    public let nextIndex: Int
    /// When it was opened.
    public let createdAt: Date

    /// A record.
    public init(keyID: String, epoch: Int, size: Int, nextIndex: Int, createdAt: Date) {
        self.keyID = keyID
        self.epoch = epoch
        self.size = size
        self.nextIndex = nextIndex
        self.createdAt = createdAt
    }

    /// The list's id, `KID.EPOCH`: the last segment of its URI.
    public var id: String { "\(keyID).\(epoch)" }

    /// The next `count` indices (fewer when the list runs out).
    func block(taking count: Int) -> StatusBlock {
        StatusBlock(list: id, indices: nextIndex..<min(size, nextIndex + max(count, 1)))
    }
}

/// Indices reserved for one broker to hand out, in one list.
public struct StatusBlock: Sendable, Hashable {
    /// The list's id.
    public let list: String
    /// The indices, none handed out before.
    public let indices: Range<Int>

    /// A block.
    public init(list: String, indices: Range<Int>) {
        self.list = list
        self.indices = indices
    }
}

/// Where Token Status Lists are kept. A token's status is set in the commit of whatever revokes it (task,
/// token, workload, user, issued-before and key revocations alike), by the other stores; this store hands out
/// indices and reads the lists back. Every method is one transaction.
public protocol StatusListStore: Sendable {
    /// Reserves up to `count` indices never handed out before, in the newest list of `keyID` with room, opening
    /// the key's next list of `size` indices when it has none with room.
    func reserve(keyID: String, count: Int, size: Int, at date: Date) async throws -> StatusBlock
    /// A list; nil when there is none of that id.
    func fetch(list id: String) async throws -> StatusListRecord?
    /// The indices in a list whose recorded token is revoked, ascending.
    func revokedIndices(list id: String) async throws -> [Int]
}
