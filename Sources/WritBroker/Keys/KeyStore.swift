public import Foundation
public import WritToken

/// What recording a rotation came to.
public enum KeyRotationWrite: Sendable, Hashable {
    /// Recorded: the key that signed until now, and the key entries written for an immediate rotation.
    case rotated(previous: String, keyEntries: [Revocation])
    /// A key published by an earlier rotation has not started signing yet.
    case pending(SigningKeyRecord)
    /// No recorded key signs now.
    case noSigningKey
}

/// Where the signing keys' records are kept (the keys themselves are files beside the store). Every method is
/// one transaction.
public protocol KeyStore: Sendable {
    /// Keys not yet retired, oldest first.
    func listUnretired() async throws -> [SigningKeyRecord]
    /// Every key ever recorded, oldest first.
    func list() async throws -> [SigningKeyRecord]
    /// Records a new key (signing at `activatesAt`, or at once) and audits it.
    func insert(_ record: SigningKeyRecord, actor: String, at date: Date) async throws
    /// Records a rotation: the new key, and the retirement time `retiresAt` for the key signing now (or, when
    /// `immediately`, for every other key, with a `key` feed entry for each kept `keyEntryRetention`); audited.
    /// Unless `immediately`, refused while an earlier rotation's key is still pending.
    func rotate(
        to record: SigningKeyRecord,
        immediately: Bool,
        retiresAt: Date,
        keyEntryRetention: TimeInterval,
        actor: String,
        at date: Date
    ) async throws -> KeyRotationWrite
    /// Marks the given keys retired (audited), and returns the keys still unretired.
    func retire(_ ids: [String], at date: Date) async throws -> [SigningKeyRecord]
}
