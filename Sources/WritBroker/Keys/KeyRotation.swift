public import Foundation
public import WritAPI
import WritToken

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

    /// What the admin API answers.
    public var wire: KeyRotationResponse {
        KeyRotationResponse(
            kid: newKey,
            activatesAt: activatesAt.numericDate,
            previousKid: previousKey,
            previousRetiresAt: previousRetiresAt.numericDate
        )
    }

    /// The audit entry of a rotation (with the feed entries of an immediate one).
    static func auditEvent(
        newKey record: SigningKeyRecord,
        previous: String,
        retiresAt: Date,
        keyEntries: [Revocation]?,
        actor: String
    ) -> AuditEvent {
        var detail: [String: JSONValue] = [
            "previous": .string(previous),
            "activates_at": .integer((record.activatesAt ?? record.createdAt).numericDate),
            "previous_retires_at": .integer(retiresAt.numericDate),
        ]
        if let keyEntries {
            detail["immediately"] = .bool(true)
            detail["revocations"] = .array(keyEntries.map { .integer(Int64($0.sequence)) })
        }
        return AuditEvent("key.rotated", actor: actor, subject: record.id, detail: .object(detail))
    }
}
