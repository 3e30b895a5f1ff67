import Crypto
public import Foundation
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

    /// The entry as JSON, for export.
    public var json: JSONValue {
        .object([
            "seq": .integer(sequence), "at_ms": .integer(milliseconds), "event": .string(event),
            "actor": .string(actor), "subject": .string(subject), "detail": detail,
            "prev_hash": .string(previousHash), "hash": .string(hash),
        ])
    }
}

extension AuditEntry {
    /// An entry read back from its JSON (an export line); nil when a member is missing or of the wrong type.
    public init?(json: JSONValue) {
        guard let members = json.objectValue, let sequence = members["seq"]?.integerValue,
            let milliseconds = members["at_ms"]?.integerValue, let event = members["event"]?.stringValue,
            let actor = members["actor"]?.stringValue, let subject = members["subject"]?.stringValue,
            let detail = members["detail"], let previousHash = members["prev_hash"]?.stringValue,
            let hash = members["hash"]?.stringValue
        else { return nil }
        self.init(
            sequence: sequence,
            milliseconds: milliseconds,
            event: event,
            actor: actor,
            subject: subject,
            detail: detail,
            previousHash: previousHash,
            hash: hash
        )
    }
}
