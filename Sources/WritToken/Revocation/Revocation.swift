public import Foundation

/// What a revocation covers.
public enum RevocationSubject: Sendable, Hashable {
    /// Every token of a task (the broker lists each sub-task of a revoked task too).
    case task(String)
    /// One token, by `jti`.
    case token(String)
    /// Every token a workload holds or acts in (as `client_id` or anywhere in the `act` chain).
    case workload(SPIFFEID)
    /// Every token issued for a user (`sub`).
    case user(String)
    /// Every token issued before a time, optionally only a workload's. The time is rounded up to a whole
    /// second (``Revocation/cutoff(_:)``), because `iat` is whole seconds: a token issued earlier in the same
    /// second is covered. A token is covered when its `iat` is less than that cutoff — the one definition the
    /// broker's store, its counts and every verifier use.
    case issuedBefore(Date, workload: SPIFFEID?)
    /// Every token signed by a signing key, by `kid`: the key is retired at once (a compromised key). A
    /// verifier following the feed drops the key from its key set.
    case key(String)
    /// An operator lifted a workload or user entry (by its sequence number): from the whole second `from` on,
    /// that entry no longer covers new tokens, while every token issued before stays revoked.
    case lift(UInt64, from: Date)
}

/// One entry of the revocation feed: a gapless sequence number, what it covers, and when it can be
/// forgotten because every token it covers has expired.
public struct Revocation: Sendable, Hashable {
    /// The feed position, starting at 1 with no gaps.
    public let sequence: UInt64
    /// What is revoked.
    public let subject: RevocationSubject
    /// When the revocation was made.
    public let revokedAt: Date
    /// After this, no token it covers is still valid, so the entry may be dropped.
    public let retainUntil: Date

    /// Creates an entry.
    public init(sequence: UInt64, subject: RevocationSubject, revokedAt: Date, retainUntil: Date) {
        self.sequence = sequence
        if case .issuedBefore(let time, let workload) = subject {
            self.subject = .issuedBefore(Self.cutoff(time), workload: workload)
        } else if case .lift(let entry, let from) = subject {
            self.subject = .lift(entry, from: Self.cutoff(from))
        } else {
            self.subject = subject
        }
        self.revokedAt = revokedAt.wholeSeconds
        self.retainUntil = retainUntil.wholeSeconds
    }

    /// The whole-second cutoff of an issued-before revocation made for `time`: `time` rounded up. A token whose
    /// `iat` (whole seconds, rounded down when it was issued) is less than it was issued before `time`, or in
    /// the same second.
    public static func cutoff(_ time: Date) -> Date {
        Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.up))
    }

    /// Whether this entry covers a token.
    public func covers(_ claims: AccessTokenClaims) -> Bool {
        switch subject {
        case .task(let id): return claims.taskID == id
        case .token(let id): return claims.tokenID == id
        case .workload(let workload): return claims.clientID == workload || claims.actorChain.contains(workload)
        case .user(let user): return claims.hasUser && claims.subject == user
        case .issuedBefore(let cutoff, let workload):
            guard claims.issuedAt < cutoff else { return false }
            guard let workload else { return true }
            return claims.clientID == workload || claims.actorChain.contains(workload)
        // A key entry is about the signature, which the claims do not name; a lift revokes nothing.
        case .key, .lift: return false
        }
    }

    /// The entry as the feed's JSON object.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "seq": .integer(Int64(sequence)),
            "revoked_at": .integer(revokedAt.numericDate),
            "retain_until": .integer(retainUntil.numericDate),
        ]
        switch subject {
        case .task(let id):
            members["kind"] = .string("task")
            members["id"] = .string(id)
        case .token(let id):
            members["kind"] = .string("token")
            members["id"] = .string(id)
        case .workload(let workload):
            members["kind"] = .string("workload")
            members["id"] = .string(workload.description)
        case .user(let user):
            members["kind"] = .string("user")
            members["id"] = .string(user)
        case .issuedBefore(let cutoff, let workload):
            members["kind"] = .string("issued_before")
            members["before"] = .integer(cutoff.numericDate)
            if let workload { members["workload"] = .string(workload.description) }
        case .key(let kid):
            members["kind"] = .string("key")
            members["id"] = .string(kid)
        case .lift(let entry, let from):
            members["kind"] = .string("lift")
            members["lifts"] = .integer(Int64(entry))
            members["from"] = .integer(from.numericDate)
        }
        return .object(members)
    }

    /// Reads a feed entry.
    public init(json: JSONValue) throws(VerificationError) {
        guard let members = json.objectValue, let sequence = members["seq"]?.integerValue, sequence > 0,
            let revokedAt = members["revoked_at"]?.integerValue,
            let retainUntil = members["retain_until"]?.integerValue,
            let kind = members["kind"]?.stringValue
        else { throw .malformed("a revocation needs seq, kind, revoked_at and retain_until") }
        func workload(_ text: String?) throws(VerificationError) -> SPIFFEID {
            guard let text, let id = try? SPIFFEID(text) else { throw .malformed("a revocation names a bad workload") }
            return id
        }
        let subject: RevocationSubject
        switch kind {
        case "task", "token", "user", "key":
            guard let id = members["id"]?.stringValue, !id.isEmpty else { throw .malformed("a revocation needs an id") }
            switch kind {
            case "task": subject = .task(id)
            case "token": subject = .token(id)
            case "user": subject = .user(id)
            default: subject = .key(id)
            }
        case "lift":
            guard let entry = members["lifts"]?.integerValue, entry > 0, entry < sequence,
                let from = members["from"]?.integerValue
            else { throw .malformed("a lift needs lifts (an earlier entry) and from") }
            subject = .lift(UInt64(entry), from: Date(timeIntervalSince1970: TimeInterval(from)))
        case "workload": subject = .workload(try workload(members["id"]?.stringValue))
        case "issued_before":
            guard let before = members["before"]?.integerValue else { throw .malformed("issued_before needs before") }
            let scope = members["workload"] == nil ? nil : try workload(members["workload"]?.stringValue)
            subject = .issuedBefore(Date(timeIntervalSince1970: TimeInterval(before)), workload: scope)
        default: throw .malformed("unknown revocation kind \(kind.prefix(32))")
        }
        self.init(
            sequence: UInt64(sequence),
            subject: subject,
            revokedAt: Date(timeIntervalSince1970: TimeInterval(revokedAt)),
            retainUntil: Date(timeIntervalSince1970: TimeInterval(retainUntil))
        )
    }
}
