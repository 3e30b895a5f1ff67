public import Foundation

/// The claims of a Writ access token (RFC 9068 profile, with RFC 8693 `act`, RFC 9396
/// `authorization_details`, and the transaction-token `txn` and `purp`).
public struct AccessTokenClaims: Sendable, Hashable {
    /// `iss`: the broker's issuer URL.
    public var issuer: String
    /// `sub`: the user the work is for, or the workload itself when there is none.
    public var subject: String
    /// `aud`: exactly one resource server.
    public var audience: String
    /// `exp`, whole seconds.
    public var expiresAt: Date
    /// `iat`, whole seconds.
    public var issuedAt: Date
    /// `nbf`, whole seconds, when present.
    public var notBefore: Date?
    /// `jti`: unique, at least 128 random bits.
    public var tokenID: String
    /// `client_id`: the acting workload.
    public var clientID: SPIFFEID
    /// `act`, flattened: the workloads that delegated to this one, nearest first (RFC 8693 §4.1 nests them).
    public var actorChain: [SPIFFEID]
    /// `txn`: the task this token belongs to.
    public var taskID: String
    /// `purp`: the task's declared purpose, when present.
    public var purpose: String?
    /// `authorization_details`: the grant.
    public var authorizationDetails: [AuthorizationDetail]
    /// `cnf`: the key the presenter must prove, when the token is sender-constrained.
    public var confirmation: Confirmation?
    /// `status`: where a Token Status List keeps this token's status, when it has one.
    public var status: StatusListReference?

    /// Creates a claim set.
    public init(
        issuer: String,
        subject: String,
        audience: String,
        expiresAt: Date,
        issuedAt: Date,
        notBefore: Date? = nil,
        tokenID: String = AccessTokenClaims.makeTokenID(),
        clientID: SPIFFEID,
        actorChain: [SPIFFEID] = [],
        taskID: String,
        purpose: String? = nil,
        authorizationDetails: [AuthorizationDetail],
        confirmation: Confirmation? = nil,
        status: StatusListReference? = nil
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.expiresAt = expiresAt.wholeSeconds
        self.issuedAt = issuedAt.wholeSeconds
        self.notBefore = notBefore?.wholeSeconds
        self.tokenID = tokenID
        self.clientID = clientID
        self.actorChain = actorChain
        self.taskID = taskID
        self.purpose = purpose
        self.authorizationDetails = authorizationDetails
        self.confirmation = confirmation
        self.status = status
    }

    /// A fresh `jti`: 128 random bits from the system's CSPRNG, base64url.
    public static func makeTokenID() -> String {
        Base64URL.encode(SecureRandom.bytes(16))
    }

    /// `scope`, derived for resource servers that only read scopes: the sorted, unique `type:action` pairs.
    public var scope: String {
        var pairs = Set<String>()
        for detail in authorizationDetails {
            for action in detail.actions { pairs.insert("\(detail.type):\(action)") }
        }
        return pairs.sorted().joined(separator: " ")
    }

    /// Whether the user is absent, so `sub` names the workload.
    public var hasUser: Bool { !clientID.isDescription(of: subject) }
}

extension Date {
    /// The date truncated to whole seconds, as JWT NumericDate carries it here.
    public var wholeSeconds: Date {
        Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down))
    }

    /// Whole seconds since the epoch.
    public var numericDate: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
