public import Foundation
public import WritAPI
import WritToken

/// One signing key as recorded, with where it stands in its life: published ahead of use, signing, kept
/// published until its last token has expired, then retired.
public struct SigningKeyRecord: Sendable, Hashable {
    /// The key id (its RFC 7638 thumbprint).
    public var id: String
    /// `ES256` or `EdDSA`.
    public var algorithm: String
    /// The file in the keys directory holding the private key.
    public var file: String
    /// When it was made (and first published).
    public var createdAt: Date
    /// When it starts signing; nil for a key that signed from the start.
    public var activatesAt: Date?
    /// When it leaves the JWKS: set once a newer key takes over, to when its last token has expired.
    public var retiresAt: Date?
    /// When it left the JWKS.
    public var retiredAt: Date?

    /// Whether its activation time has come (a key recorded without one signed from the start).
    /// A record of a key.
    public init(
        id: String,
        algorithm: String,
        file: String,
        createdAt: Date,
        activatesAt: Date? = nil,
        retiresAt: Date? = nil,
        retiredAt: Date? = nil
    ) {
        self.id = id
        self.algorithm = algorithm
        self.file = file
        self.createdAt = createdAt
        self.activatesAt = activatesAt
        self.retiresAt = retiresAt
        self.retiredAt = retiredAt
    }

    public func signs(at now: Date) -> Bool { activatesAt.map { Self.reached($0, at: now) } ?? true }

    /// Whether `time` has come at `now`, allowing for the millisecond a stored time loses on its way through
    /// the database (whole milliseconds since 1970 there, fractional seconds since 2001 in `Date`).
    static func reached(_ time: Date, at now: Date) -> Bool {
        time.timeIntervalSince1970 <= now.timeIntervalSince1970 + 0.001
    }

    /// Where the key stands at `now`, given the id of the key that signs.
    public func state(activeID: String, now: Date) -> String {
        if retiredAt != nil { return "retired" }
        if id == activeID { return "active" }
        if !signs(at: now) { return "pending" }
        return "retiring"
    }

    /// The record as the admin API sends it.
    public func wire(activeID: String, now: Date) -> SigningKeyBody {
        SigningKeyBody(
            kid: id,
            alg: algorithm,
            state: SigningKeyBody.State(rawValue: state(activeID: activeID, now: now)) ?? .retired,
            createdAt: createdAt.numericDate,
            activatesAt: activatesAt?.numericDate,
            retiresAt: retiresAt?.numericDate,
            retiredAt: retiredAt?.numericDate
        )
    }
}
