import Foundation
public import WritAPI
import WritToken

/// The audit log's chain: where it breaks, outside anchors, reports, and the check of an export. Entries are
/// appended inside the write that makes the change they record, so a change and its audit entry are committed
/// together or not at all (``AuditStore``).
public enum AuditLog {
    /// Where the chain is broken, if it is.
    public struct Break: Error, Sendable, Hashable, CustomStringConvertible {
        /// The first entry that does not verify, or the position where one is missing.
        public let sequence: Int64
        /// What is wrong there.
        public let reason: String
        public var description: String { "audit chain broken at entry \(sequence): \(reason)" }
    }

    /// An entry's position and hash, kept outside the broker (the last line of an export): the log must still
    /// hold exactly that entry, so rewriting the whole table and recomputing every hash is caught.
    public struct Anchor: Sendable, Hashable {
        /// The entry's sequence number.
        public let sequence: Int64
        /// Its hash.
        public let hash: String

        /// An anchor.
        public init(sequence: Int64, hash: String) {
            self.sequence = sequence
            self.hash = hash
        }
    }

    /// An anchor older than the pruning horizon: it can no longer be checked (which says nothing of tampering).
    public struct AnchorPruned: Error, Sendable, Hashable, CustomStringConvertible {
        /// The anchor's entry.
        public let sequence: Int64
        /// The last entry pruned.
        public let prunedThrough: Int64

        /// The error for an anchor at `sequence` when entries through `prunedThrough` are gone.
        public init(sequence: Int64, prunedThrough: Int64) {
            self.sequence = sequence
            self.prunedThrough = prunedThrough
        }

        public var description: String {
            "entries through \(prunedThrough) were pruned, so an anchor at entry \(sequence) can no longer be "
                + "checked; use a later export"
        }
    }

    /// What a walk of the chain found, as the admin API and `writ audit verify` report it.
    public struct Report: Sendable, Hashable {
        /// The first break, or nil when the chain is intact.
        public let problem: Break?
        /// How many entries were walked.
        public let entries: Int
        /// The last sequence number.
        public let last: Int64

        /// A report.
        public init(problem: Break?, entries: Int, last: Int64) {
            self.problem = problem
            self.entries = entries
            self.last = last
        }

        /// The report as the admin API and `writ audit verify` give it.
        public var wire: AuditVerificationResponse {
            AuditVerificationResponse(
                intact: problem == nil,
                entries: Int64(entries),
                last: last,
                brokenAt: problem?.sequence,
                reason: problem?.reason
            )
        }
    }

    /// Checks exported entries on their own: consecutive, each hash right and each following the one before
    /// (the first is taken as it is, since its predecessor is not in the export). Nil when they are intact.
    public static func verify(exported entries: [AuditEntry]) -> Break? {
        var previous: AuditEntry?
        for entry in entries {
            if let previous {
                if entry.sequence != previous.sequence + 1 {
                    let reason =
                        entry.sequence > previous.sequence + 1
                        ? "entries \(previous.sequence + 1) to \(entry.sequence - 1) are missing"
                        : "entry is out of order"
                    return Break(sequence: min(entry.sequence, previous.sequence + 1), reason: reason)
                }
                if entry.previousHash != previous.hash {
                    return Break(sequence: entry.sequence, reason: "it does not follow the entry before it")
                }
            }
            if !entry.isIntact(after: entry.previousHash) {
                return Break(sequence: entry.sequence, reason: "its content does not match its hash")
            }
            previous = entry
        }
        return nil
    }

}
