public import Foundation
public import WritAPI
public import WritToken
import WritVerifier

extension TokenService {
    /// Verifies one of the broker's own tokens: signature by a published key, not expired. Used by
    /// introspection and by holder revocation; nil when the token is not one of ours or not valid.
    public func verifyOwnToken(_ token: String, now: Date) -> AccessTokenClaims? {
        guard token.utf8.count <= AccessToken.maximumLength else { return nil }
        var trail = VerificationTrail.disabled
        let keys = keys.current
        guard let claims = try? AccessToken.decodeVerified(token, trail: &trail, lookup: { keys.key(id: $0) }),
            bytesEqual(claims.issuer, context.settings.issuer), claims.expiresAt > now
        else { return nil }
        return claims
    }

    /// RFC 7662 introspection: whether a token is active (ours, valid, recorded, not revoked) and its claims.
    /// A resource server learns only of tokens for its own audience (RFC 7662 §4): any other is inactive.
    public func introspect(_ token: String, for caller: Caller) async throws(BrokerError) -> IntrospectionResponse {
        let inactive = IntrospectionResponse(active: false)
        let now = context.clock.now
        guard let claims = verifyOwnToken(token, now: now), try feed.covers(claims, now: now) == nil else {
            return inactive
        }
        if case .resourceServer(_, let audiences) = caller,
            !audiences.contains(where: { bytesEqual($0, claims.audience) })
        {
            return inactive
        }
        let (id, taskID) = (claims.tokenID, claims.taskID)
        // Recorded, and not covered by a task or token entry made before this broker started (the in-memory
        // view holds those made since).
        guard try await context.store("introspect", { try await store.isLive(id: id, taskID: taskID) }) else {
            return inactive
        }
        let tokenType: TokenResponse.TokenType
        if case .dpop = claims.confirmation { tokenType = .dpop } else { tokenType = .bearer }
        return IntrospectionResponse(active: true, tokenType: tokenType, claims: claims)
    }
}
