public import Foundation
import WritToken

/// What the broker records of each token it returns (never the token itself).
public struct IssuedToken: Sendable, Hashable {
    /// `jti`.
    public var id: String
    /// `txn`.
    public var taskID: String
    /// `client_id`.
    public var workload: String
    /// `sub`.
    public var subject: String
    /// `aud`.
    public var audience: String
    /// `iat`.
    public var issuedAt: Date
    /// `exp`.
    public var expiresAt: Date
    /// `bearer`, `dpop:JKT` or `mtls:X5T`.
    public var binding: String
    /// Where its status is kept (its `status` claim's list and index), when it has one.
    public var status: StatusSlot?

    /// A record.
    public init(
        id: String,
        taskID: String,
        workload: String,
        subject: String,
        audience: String,
        issuedAt: Date,
        expiresAt: Date,
        binding: String,
        status: StatusSlot? = nil
    ) {
        self.id = id
        self.taskID = taskID
        self.workload = workload
        self.subject = subject
        self.audience = audience
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.binding = binding
        self.status = status
    }
}

/// A token's place in a Token Status List: the list's id and the token's index in it.
public struct StatusSlot: Sendable, Hashable {
    /// The list, `KID.EPOCH`.
    public var list: String
    /// The token's index in it.
    public var index: Int

    /// A slot.
    public init(list: String, index: Int) {
        self.list = list
        self.index = index
    }
}
