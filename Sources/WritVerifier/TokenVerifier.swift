public import Foundation
public import WritToken

/// Verifies Writ access tokens for one resource server, offline, in one synchronous call.
///
/// The path is fixed and short (RFC 8725): size and shape, header allow-list, key by `kid` from the
/// configured set (the key fixes the algorithm), signature over the bytes as received, strict JSON, then
/// issuer, audience and time against the injected clock, the sender constraint, and revocation.
public struct TokenVerifier: Sendable {
    /// What this resource server accepts.
    public struct Configuration: Sendable {
        /// The one issuer trusted.
        public var issuer: String
        /// This resource server's audience value.
        public var audience: String
        /// This resource server's location for authorization details' `locations`; defaults to the audience.
        public var location: String
        /// Clock skew allowed on `exp`, `nbf` and `iat`.
        public var clockSkew: TimeInterval
        /// How old and how early DPoP proofs may be.
        public var proofWindow: DPoPProof.TimeWindow
        /// Whether tokens without `cnf` are accepted. The broker issues them only where policy allows.
        public var acceptsBearerTokens: Bool
        /// When set, DPoP proofs must carry one of these nonces.
        public var validNonces: Set<String>?
        /// How many verified tokens to remember so repeated presentations skip the signature; 0 disables.
        public var cacheCapacity: Int

        /// A configuration for an issuer and an audience.
        public init(
            issuer: String,
            audience: String,
            location: String? = nil,
            clockSkew: TimeInterval = 30,
            proofWindow: DPoPProof.TimeWindow = .init(),
            acceptsBearerTokens: Bool = true,
            validNonces: Set<String>? = nil,
            cacheCapacity: Int = 4096
        ) {
            self.issuer = issuer
            self.audience = audience
            self.location = location ?? audience
            self.clockSkew = clockSkew
            self.proofWindow = proofWindow
            self.acceptsBearerTokens = acceptsBearerTokens
            self.validNonces = validNonces
            self.cacheCapacity = cacheCapacity
        }
    }

    /// The configuration.
    public let configuration: Configuration
    /// Where keys come from.
    public let keys: any KeySetProvider
    /// Where revocations come from; nil when the verifier has no revocation source, and then the trail says
    /// that revocation was not checked.
    public let revocations: (any RevocationView)?
    /// Seen DPoP proof ids.
    public let replayCache: DPoPReplayCache
    /// The time source.
    public let clock: any WritClock
    /// Tokens already verified, when the configuration enables the cache.
    public let cache: VerifiedTokenCache?
    /// Where allowed uses and refusals are counted for the broker, when usage reporting is on.
    public let usage: UsageRecorder?

    /// Creates a verifier.
    public init(
        configuration: Configuration,
        keys: any KeySetProvider,
        revocations: (any RevocationView)? = nil,
        replayCache: DPoPReplayCache = DPoPReplayCache(),
        clock: any WritClock = SystemClock(),
        usage: UsageRecorder? = nil
    ) {
        self.usage = usage
        self.configuration = configuration
        self.keys = keys
        self.revocations = revocations
        self.replayCache = replayCache
        self.clock = clock
        self.cache = configuration.cacheCapacity > 0 ? VerifiedTokenCache(capacity: configuration.cacheCapacity) : nil
    }

    /// Verifies a presented token for this resource server.
    public func verify(_ presentation: Presentation) throws(VerificationError) -> VerifiedAccess {
        var trail = VerificationTrail.disabled
        return try verify(presentation, trail: &trail)
    }

    /// Verifies a presented token, recording each check in `trail`.
    public func verify(
        _ presentation: Presentation,
        trail: inout VerificationTrail
    ) throws(VerificationError) -> VerifiedAccess {
        try verify(presentation, trail: &trail, attempting: nil)
    }

    /// Verifies; with usage reporting on, a refusal is recorded with what was known of the token and what it
    /// was presented for.
    func verify(
        _ presentation: Presentation,
        trail: inout VerificationTrail,
        attempting attempt: (action: String, resource: Resource)?,
        unrecorded: VerificationError.Code? = nil
    ) throws(VerificationError) -> VerifiedAccess {
        guard let usage else { return try judge(try decode(presentation, trail: &trail), presentation, &trail) }
        let decoded: Decoded
        do {
            decoded = try decode(presentation, trail: &trail)
        } catch {
            if error.code != unrecorded {
                usage.refused(error.code, claims: nil, action: attempt?.action, on: attempt?.resource, at: clock.now)
            }
            throw error
        }
        do {
            return try judge(decoded, presentation, &trail)
        } catch {
            usage.refused(
                error.code,
                claims: decoded.claims,
                action: attempt?.action,
                on: attempt?.resource,
                at: clock.now
            )
            throw error
        }
    }

    /// A token read and its signature checked: its claims, and the key that signed it.
    struct Decoded {
        let authorization: AuthorizationValue
        let claims: AccessTokenClaims
        let signedBy: String
        let usedKey: VerificationKey?
    }

    private func decode(
        _ presentation: Presentation,
        trail: inout VerificationTrail
    ) throws(VerificationError) -> Decoded {
        let authorization = try trail.run(.size) { () throws(VerificationError) in
            guard presentation.authorization.utf8.count <= AccessToken.maximumLength + 16 else {
                throw .malformed("the Authorization value is longer than \(AccessToken.maximumLength) bytes")
            }
            return try AuthorizationValue(presentation.authorization)
        }
        if let cache, let hit = cache.lookup(authorization.token), keys.key(id: hit.key.id) == hit.key {
            // These exact bytes verified before under a key that is still configured.
            trail.passed(.cache)
            return Decoded(authorization: authorization, claims: hit.claims, signedBy: hit.key.id, usedKey: nil)
        }
        var kid = ""
        var usedKey: VerificationKey?
        let claims = try AccessToken.decodeVerified(authorization.token, trail: &trail) { id in
            kid = id
            usedKey = keys.key(id: id)
            return usedKey
        }
        return Decoded(authorization: authorization, claims: claims, signedBy: kid, usedKey: usedKey)
    }

    /// The checks of the claims: issuer, audience, lifetime, sender constraint, revocation.
    private func judge(
        _ decoded: Decoded,
        _ presentation: Presentation,
        _ trail: inout VerificationTrail
    ) throws(VerificationError) -> VerifiedAccess {
        let claims = decoded.claims
        let authorization = decoded.authorization
        let signedBy = decoded.signedBy
        let usedKey = decoded.usedKey
        let now = clock.now
        try trail.run(.issuer) { () throws(VerificationError) in
            guard bytesEqual(claims.issuer, configuration.issuer) else {
                throw .wrongIssuer("the token is from another issuer")
            }
        }
        try trail.run(.audience) { () throws(VerificationError) in
            guard bytesEqual(claims.audience, configuration.audience) else {
                throw .wrongAudience("the token is for another audience")
            }
        }
        try trail.run(.lifetime) { () throws(VerificationError) in try checkLifetime(claims, now: now) }
        try trail.run(.senderConstraint) { () throws(VerificationError) in
            try checkSenderConstraint(claims, authorization: authorization, presentation: presentation, now: now)
        }
        if let revocations {
            try trail.run(.revocation) { () throws(VerificationError) in
                // A key retired through the feed (a compromise) is refused at once, before the key set's refresh;
                // the view answers that and the token's own status in one call (one lock).
                switch revocations.status(of: claims, signedBy: signedBy, now: now) {
                case .notRevoked: return
                case .revoked(let entry):
                    if case .key = entry.subject { throw .revoked("the key that signed the token was retired") }
                    throw .revoked("the token, its task, workload or user has been revoked")
                case .stale: throw .revocationViewStale("the revocation view is older than its bound")
                }
            }
        } else {
            // Only the token itself was checked: a revoked token passes unnoticed, and the trail says so.
            trail.notChecked(.revocation, because: "offline")
        }
        if let cache, let usedKey {
            cache.insert(authorization.token, claims: claims, key: usedKey, now: now)
        }
        return VerifiedAccess(claims: claims, location: configuration.location)
    }

    /// Verifies, and on an unknown `kid` lets a refreshing key set fetch once (within its rate limit) and
    /// tries again. `action` and `resource`, when given, are what the token is presented for: with usage
    /// reporting on, a refusal is recorded with them (authorizing stays the caller's, with ``authorize(_:_:on:)``).
    public func verifyAllowingKeyRefresh(
        _ presentation: Presentation,
        for action: String? = nil,
        on resource: Resource? = nil
    ) async throws(VerificationError) -> VerifiedAccess {
        let attempt = action.flatMap { action in resource.map { (action, $0) } }
        var trail = VerificationTrail.disabled
        do {
            // An unknown key that a refresh finds is not a refusal: that one is recorded only if it stands.
            return try verify(presentation, trail: &trail, attempting: attempt, unrecorded: .unknownKey)
        } catch  where error.code == .unknownKey {
            guard await keys.refreshAfterUnknownKey() else {
                usage?.refused(error.code, claims: nil, action: action, on: resource, at: clock.now)
                throw error
            }
            return try verify(presentation, trail: &trail, attempting: attempt)
        }
    }

    /// Checks that verified access allows an action on a resource.
    public func authorize(_ access: VerifiedAccess, _ action: String, on resource: Resource) throws(VerificationError) {
        guard access.permits(action, on: resource) else {
            usage?.refused(
                .insufficientAuthorization,
                claims: access.claims,
                action: action,
                on: resource,
                at: clock.now
            )
            // The resource comes from the request, so naming it tells the caller nothing new, and tells an
            // operator reading the refusal which step strayed.
            let name = resource.identifier.map { " \"\($0.prefix(200))\"" } ?? ""
            throw .insufficientAuthorization("the token does not allow \(action) on \(resource.type)\(name)")
        }
        usage?.allowed(access, action, on: resource, clock: clock)
    }

    /// Verifies a token and checks it allows an action on a resource, recording every check.
    public func verify(
        _ presentation: Presentation,
        allowing action: String,
        on resource: Resource,
        trail: inout VerificationTrail
    ) throws(VerificationError) -> VerifiedAccess {
        let access = try verify(presentation, trail: &trail, attempting: (action, resource))
        try trail.run(.authorization) { () throws(VerificationError) in try authorize(access, action, on: resource) }
        return access
    }

    /// Verifies a token and checks it allows an action on a resource.
    public func verify(
        _ presentation: Presentation,
        allowing action: String,
        on resource: Resource
    ) throws(VerificationError) -> VerifiedAccess {
        var trail = VerificationTrail.disabled
        return try verify(presentation, allowing: action, on: resource, trail: &trail)
    }

    private func checkLifetime(_ claims: AccessTokenClaims, now: Date) throws(VerificationError) {
        let skew = configuration.clockSkew
        guard now < claims.expiresAt.addingTimeInterval(skew) else { throw .expired("the token has expired") }
        if let notBefore = claims.notBefore, now.addingTimeInterval(skew) < notBefore {
            throw .notYetValid("the token is not valid yet")
        }
        guard claims.issuedAt <= now.addingTimeInterval(skew) else {
            throw .notYetValid("the token is issued in the future")
        }
        guard claims.issuedAt <= claims.expiresAt else { throw .malformed("iat is after exp") }
    }

    private func checkSenderConstraint(
        _ claims: AccessTokenClaims,
        authorization: AuthorizationValue,
        presentation: Presentation,
        now: Date
    ) throws(VerificationError) {
        switch claims.confirmation {
        case .dpop(let thumbprint):
            guard authorization.scheme == .dpop else {
                throw .proofRequired("the token is DPoP-bound; present it with the DPoP scheme and a proof")
            }
            guard let proof = presentation.dpopProof else { throw .proofRequired("the DPoP proof is missing") }
            let verified = try DPoPProof.verify(
                proof,
                method: presentation.method,
                url: presentation.url,
                accessToken: authorization.token,
                validNonces: configuration.validNonces,
                now: now,
                window: configuration.proofWindow
            )
            guard constantTimeEquals(verified.keyThumbprint, thumbprint) else {
                throw .bindingMismatch("the proof's key is not the key the token is bound to")
            }
            let expiry = now.addingTimeInterval(
                configuration.proofWindow.maximumAge + configuration.proofWindow.maximumFutureSkew
            )
            switch replayCache.record(id: verified.id, keyThumbprint: verified.keyThumbprint, expiry: expiry, now: now)
            {
            case .fresh: return
            case .replayed: throw .proofReplayed("this DPoP proof was already used")
            case .full: throw .proofInvalid("too many live proofs; try again shortly")
            }
        case .mutualTLS(let thumbprint):
            guard authorization.scheme == .bearer else {
                throw .proofInvalid("a certificate-bound token is presented with the Bearer scheme")
            }
            guard let certificate = presentation.clientCertificate else {
                throw .proofRequired("the token is certificate-bound; present it over mutual TLS")
            }
            let presented = SHA256Thumbprint.of(certificate)
            guard constantTimeEquals(presented, thumbprint) else {
                throw .bindingMismatch("the client certificate is not the one the token is bound to")
            }
        case nil:
            guard authorization.scheme == .bearer else {
                throw .proofInvalid("the token is not DPoP-bound but is presented with the DPoP scheme")
            }
            guard configuration.acceptsBearerTokens else {
                throw .proofRequired("this resource server accepts only sender-constrained tokens")
            }
        }
    }
}
