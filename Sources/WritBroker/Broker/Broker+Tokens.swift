public import Foundation
import GRDB
import Logging
import WritPolicy
public import WritToken
import WritVerifier

extension Broker {
    /// How old (and how far in the future) a DPoP proof at the token endpoint may be: clients make a fresh
    /// proof for each token request.
    public static let proofWindow = DPoPProof.TimeWindow(maximumAge: 30, maximumFutureSkew: 5)

    /// Issues an access token for an open task and one audience (RFC 8693). The token carries the task's
    /// grant entries for that audience, lives at most the default lifetime, the policy's ceiling and the
    /// task's remaining time, and is bound to the DPoP key when a proof is sent, else to the client
    /// certificate when the request came over mutual TLS (RFC 8705). It is recorded, with its
    /// audit entry, before it is returned.
    public func issueToken(
        _ request: TokenRequest,
        dpopProof: String?,
        certificate: PresentedSVID? = nil
    ) async throws(BrokerError) -> IssuedAccessToken {
        let now = clock.now
        let caller: WorkloadIdentity
        if let assertion = request.workloadAssertion {
            do {
                caller = try identities.authenticateWorkload(assertion, now: now)
            } catch {
                metrics.denied("invalid_workload_assertion")
                throw BrokerError(.invalidRequest, "actor_token: \(error.description)")
            }
        } else if let certificate {
            caller = certificate.identity
        } else {
            throw BrokerError(
                .invalidRequest,
                "actor_token (the workload's assertion) is required, or an X.509-SVID over mutual TLS"
            )
        }
        try admit(caller.id)
        guard let task = try await task(id: request.taskID), task.workload == caller.id else {
            metrics.denied(BrokerError.Code.invalidGrant.rawValue)
            throw BrokerError(.invalidGrant, "no task \(request.taskID.prefix(64)) for this workload")
        }
        guard task.state == .open, !task.isDue(at: now) else {
            metrics.denied(BrokerError.Code.invalidGrant.rawValue)
            throw BrokerError(
                .invalidGrant,
                "the task is \(task.state == .open ? "past its deadline" : task.state.rawValue)"
            )
        }
        guard caller.attestation == task.attestation else {
            throw BrokerError(.invalidGrant, "the task was granted to a \(task.attestation.rawValue) identity")
        }
        if let assertion = request.userAssertion {
            let user: UserClaims
            do {
                user = try identities.verifyUser(assertion, now: now)
            } catch {
                throw BrokerError(.invalidRequest, "subject_token: \(error.description)")
            }
            guard let subject = user.subject, subject == task.user?.subject else {
                throw BrokerError(.invalidGrant, "the user assertion does not name the task's user")
            }
        }
        // Continuous verification: the policy in force now decides, not the one the task was opened under.
        let grant = try await currentGrant(for: task, now: now)
        let audience = request.audience
        let details = grant.authorizationDetails.filter { detail in
            detail.locations.contains { bytesEqual($0, audience) }
        }
        guard !details.isEmpty else {
            metrics.denied(BrokerError.Code.invalidTarget.rawValue)
            throw BrokerError(.invalidTarget, "the task's grant names no resource at \(audience.prefix(256))")
        }
        var confirmation: Confirmation?
        var usedProof: (keyThumbprint: String, id: String, expiry: Date)?
        if let dpopProof {
            let proof: DPoPProof.Verified
            do {
                proof = try DPoPProof.verify(
                    dpopProof,
                    method: "POST",
                    url: certificate == nil ? settings.tokenEndpoint : settings.mutualTLSTokenEndpoint ?? "",
                    accessToken: nil as String?,
                    now: now,
                    window: Self.proofWindow
                )
            } catch {
                metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
                throw BrokerError(.invalidDPoPProof, "DPoP: \(error.description)")
            }
            if settings.requireDPoPNonces, !(proof.nonce.map { dpopNonces.valid(now: now).contains($0) } ?? false) {
                var refusal = BrokerError(.useDPoPNonce, "make the proof again with the nonce in DPoP-Nonce")
                refusal.dpopNonce = dpopNonces.current(now: now)
                throw refusal
            }
            // RFC 9449 §11.1: a proof is good for one request, so its id is remembered while it could be
            // accepted; the short window keeps that memory small at thousands of requests a second.
            let expiry = proof.issuedAt.addingTimeInterval(
                Self.proofWindow.maximumAge + Self.proofWindow.maximumFutureSkew
            )
            switch proofReplays.record(id: proof.id, keyThumbprint: proof.keyThumbprint, expiry: expiry, now: now) {
            case .fresh: break
            case .replayed:
                metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
                throw BrokerError(.invalidDPoPProof, "DPoP: proof_replayed: this DPoP proof was already used")
            case .full:
                throw BrokerError(
                    .invalidDPoPProof,
                    "DPoP: proof_invalid: too many live proofs from this key; retry shortly"
                )
            }
            confirmation = .dpop(jwkThumbprint: proof.keyThumbprint)
            usedProof = (proof.keyThumbprint, proof.id, expiry)
        } else if let certificate, certificate.identity.id == caller.id {
            // RFC 8705 §3: bound to the certificate the request came over.
            confirmation = .mutualTLS(certificateThumbprint: certificate.thumbprint)
        } else if !grant.bearerTokensAllowed {
            metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
            throw BrokerError(
                .invalidDPoPProof,
                "this task's tokens must be bound: send a DPoP proof, or ask over mutual TLS"
            )
        }
        let lifetime = min(settings.defaultTokenLifetime, grant.tokenLifetime, settings.maximumTokenLifetime)
        let expiresAt = min(now.addingTimeInterval(min(lifetime, grant.taskDuration)), task.deadline).wholeSeconds
        let claims = AccessTokenClaims(
            issuer: settings.issuer,
            subject: task.tokenSubject,
            audience: audience,
            expiresAt: expiresAt,
            issuedAt: now,
            tokenID: Identifiers.token(now: now),
            clientID: task.workload,
            actorChain: task.actors,
            taskID: task.id,
            purpose: task.purpose,
            authorizationDetails: details,
            confirmation: confirmation
        )
        guard claims.expiresAt > claims.issuedAt else {
            throw BrokerError(.invalidGrant, "the task has less than a second left")
        }
        if let entry = try feed.covers(claims, now: now) {
            metrics.denied(BrokerError.Code.revoked.rawValue)
            // RFC 6749 §5.2: the grant (the task, for this workload or user) is no longer valid.
            throw BrokerError(.invalidGrant, refusal(of: "new tokens", by: entry))
        }
        let token: String
        do {
            token = try AccessToken.sign(claims, with: signingKeys.active)
        } catch {
            logger.error("signing failed", metadata: ["error": "\(error.code)"])
            throw BrokerError(.internalError, "the token could not be signed")
        }
        let binding: String
        switch confirmation {
        case .dpop(let thumbprint): binding = "dpop:\(thumbprint)"
        case .mutualTLS(let thumbprint): binding = "mtls:\(thumbprint)"
        case nil: binding = "bearer"
        }
        let record = IssuedToken(
            id: claims.tokenID,
            taskID: task.id,
            workload: task.workload.description,
            subject: claims.subject,
            audience: audience,
            issuedAt: claims.issuedAt,
            expiresAt: claims.expiresAt,
            binding: binding
        )
        let taskID = task.id
        let proofUse = usedProof
        try await write("record token") { db in
            // Checked inside the commit: a task closed meanwhile gets no token, and a close that commits after
            // this one sees the token when it computes its revocation's retention.
            guard try TaskStore.state(db, id: taskID) == .open else {
                throw BrokerError(.invalidGrant, "the task closed meanwhile")
            }
            // The memory above catches replays to this process; the store catches them after a restart, or at
            // another broker on the same database.
            if let proofUse,
                try !ProofStore.insert(
                    db,
                    keyThumbprint: proofUse.keyThumbprint,
                    proofID: proofUse.id,
                    expiresAt: proofUse.expiry
                )
            {
                throw BrokerError(.invalidDPoPProof, "DPoP: proof_replayed: this DPoP proof was already used")
            }
            try TokenStore.insert(db, record)
            try AuditLog.append(
                db,
                event: "token.issued",
                actor: record.workload,
                subject: record.id,
                detail: .object([
                    "task": .string(taskID), "aud": .string(audience), "exp": .integer(record.expiresAt.numericDate),
                    "binding": .string(binding.split(separator: ":").first.map(String.init) ?? binding),
                ]),
                at: now
            )
        }
        switch confirmation {
        case .dpop: metrics.tokenIssued(binding: "dpop")
        case .mutualTLS: metrics.tokenIssued(binding: "mtls")
        case nil: metrics.tokenIssued(binding: "bearer")
        }
        let tokenType: String
        if case .dpop = confirmation { tokenType = "DPoP" } else { tokenType = "Bearer" }
        return IssuedAccessToken(
            token: token,
            tokenType: tokenType,
            expiresIn: Int(claims.expiresAt.timeIntervalSince(now).rounded(.down)),
            record: record,
            authorizationDetails: .array(details.map(\.json))
        )
    }

    /// Verifies one of the broker's own tokens: signature by a published key, not expired. Used by
    /// introspection and by holder revocation; nil when the token is not one of ours or not valid.
    public func verifyOwnToken(_ token: String, now: Date) -> AccessTokenClaims? {
        guard token.utf8.count <= AccessToken.maximumLength else { return nil }
        var trail = VerificationTrail.disabled
        let keys = signingKeys
        guard let claims = try? AccessToken.decodeVerified(token, trail: &trail, lookup: { keys.key(id: $0) }),
            bytesEqual(claims.issuer, settings.issuer), claims.expiresAt > now
        else { return nil }
        return claims
    }

    /// RFC 7662 introspection: whether a token is active (ours, valid, recorded, not revoked) and its claims.
    /// A resource server learns only of tokens for its own audience (RFC 7662 §4): any other is inactive.
    public func introspect(_ token: String, for caller: Caller) async throws(BrokerError) -> JSONValue {
        let now = clock.now
        guard let claims = verifyOwnToken(token, now: now), try feed.covers(claims, now: now) == nil else {
            return .object(["active": .bool(false)])
        }
        if case .resourceServer(_, let audiences) = caller,
            !audiences.contains(where: { bytesEqual($0, claims.audience) })
        {
            return .object(["active": .bool(false)])
        }
        let (id, taskID) = (claims.tokenID, claims.taskID)
        // Recorded, and not covered by a task or token entry made before this broker started (the in-memory
        // view holds those made since).
        let live = try await read("introspect") { db in
            try TokenStore.fetch(db, id: id) != nil
                && RevocationStore.fetchCovering(db, taskID: taskID, tokenID: id) == nil
        }
        guard live else { return .object(["active": .bool(false)]) }
        guard case .object(var members) = claims.json else { return .object(["active": .bool(false)]) }
        members["active"] = .bool(true)
        if case .dpop = claims.confirmation {
            members["token_type"] = .string("DPoP")
        } else {
            members["token_type"] = .string("Bearer")
        }
        return .object(members)
    }
}
