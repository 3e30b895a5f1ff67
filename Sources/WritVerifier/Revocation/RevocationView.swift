public import Foundation
public import WritToken

/// How current the verifier's knowledge of revocations is, and whether a token is covered.
public enum RevocationStatus: Sendable, Hashable {
    /// The view is fresh and nothing revokes the token.
    case notRevoked
    /// An entry revokes the token.
    case revoked(Revocation)
    /// The view has not heard from the broker within its bound, so it cannot vouch for any token.
    case stale(lastHeard: Date?)
}

/// The verifier's view of revocations: consulted for every token after its signature and claims check out.
public protocol RevocationView: Sendable {
    /// Whether the token is revoked, or the view too stale to say.
    func status(of claims: AccessTokenClaims, now: Date) -> RevocationStatus

    /// The entry that retired a signing key (by `kid`), if any: every token it signed is refused.
    func retirement(ofKey kid: String) -> Revocation?

    /// Whether the key that signed the token (by `kid`) was retired, then whether the token is revoked or the
    /// view too stale to say: what the verifier asks of every token, in one call so a view can answer it
    /// under one lock.
    func status(of claims: AccessTokenClaims, signedBy kid: String, now: Date) -> RevocationStatus
}

extension RevocationView {
    /// A view that does not follow key retirements knows of none.
    public func retirement(ofKey kid: String) -> Revocation? { nil }

    /// The key's retirement first, then the token's own status.
    public func status(of claims: AccessTokenClaims, signedBy kid: String, now: Date) -> RevocationStatus {
        if let entry = retirement(ofKey: kid) { return .revoked(entry) }
        return status(of: claims, now: now)
    }
}
