import Crypto
import Foundation
public import WritAPI
public import WritToken

/// One record of the audit log: what happened, who did it, to what. Append-only and hash-chained: each
/// entry's hash covers its own content and the previous entry's hash, so altering, removing or reordering
/// an entry breaks every hash after it.
public struct AuditEntry: Sendable, Hashable {
    /// The position in the log, from 1, without gaps.
    public var sequence: Int64
    /// When, in milliseconds since the epoch.
    public var milliseconds: Int64
    /// What happened, e.g. `task.created`, `token.issued`, `revocation.created`.
    public var event: String
    /// Who did it: a SPIFFE ID, `operator:NAME`, or `broker`.
    public var actor: String
    /// What it was done to: a task id, a token id, a revocation sequence.
    public var subject: String
    /// Details, never a secret.
    public var detail: JSONValue
    /// The previous entry's hash (the anchor's for the first retained entry).
    public var previousHash: String
    /// This entry's hash.
    public var hash: String

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The hash of the first entry's predecessor.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The hash an entry with this content and predecessor must have.
    public static func hash(
        sequence: Int64,
        milliseconds: Int64,
        event: String,
        actor: String,
        subject: String,
        detail: JSONValue,
        previousHash: String
    ) -> String {
        let content: JSONValue = .object([
            "seq": .integer(sequence), "at_ms": .integer(milliseconds), "event": .string(event),
            "actor": .string(actor), "subject": .string(subject), "detail": detail,
            "prev": .string(previousHash),
        ])
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: JSONWriter.bytes(content)) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Whether the stored hash matches the content and the given predecessor.
    public func isIntact(after previousHash: String) -> Bool {
        self.previousHash == previousHash
            && hash
                == Self.hash(
                    sequence: sequence,
                    milliseconds: milliseconds,
                    event: event,
                    actor: actor,
                    subject: subject,
                    detail: detail,
                    previousHash: previousHash
                )
    }

    /// The entry as the admin API and exports carry it.
    public var wire: AuditEntryBody {
        AuditEntryBody(
            seq: sequence,
            atMilliseconds: milliseconds,
            event: event,
            actor: actor,
            subject: subject,
            detail: detail,
            prevHash: previousHash,
            hash: hash
        )
    }
}

extension AuditEntry {
    /// An entry from its wire form (an export line, a page of the log).
    public init(_ body: AuditEntryBody) {
        self.init(
            sequence: body.seq,
            milliseconds: body.atMilliseconds,
            event: body.event,
            actor: body.actor,
            subject: body.subject,
            detail: body.detail,
            previousHash: body.prevHash,
            hash: body.hash
        )
    }
}
