import Foundation
import WritPolicy
import WritToken
import WritVerifier

/// What a new token is bound to, and the DPoP proof that bound it.
struct TokenBinding: Sendable {
    /// `cnf`: a DPoP key's or a certificate's thumbprint; nil for a bearer token.
    let confirmation: Confirmation?
    /// The accepted proof, to record as used.
    let proof: UsedProof?

    /// `dpop`, `mtls` or `bearer`, as metrics and the audit log name it.
    var kind: String {
        switch confirmation {
        case .dpop: return "dpop"
        case .mutualTLS: return "mtls"
        case nil: return "bearer"
        }
    }

    /// The binding as the token record keeps it: the kind and the thumbprint.
    var stored: String {
        switch confirmation {
        case .dpop(let thumbprint): return "dpop:\(thumbprint)"
        case .mutualTLS(let thumbprint): return "mtls:\(thumbprint)"
        case nil: return "bearer"
        }
    }

    /// `token_type` in the response: `DPoP` for a DPoP-bound token, else `Bearer`.
    var tokenType: String {
        if case .dpop = confirmation { return "DPoP" }
        return "Bearer"
    }
}

extension IssuedToken {
    /// The record of a token about to be issued.
    init(_ claims: AccessTokenClaims, binding: TokenBinding, status: StatusSlot?) {
        self.init(
            id: claims.tokenID,
            taskID: claims.taskID,
            workload: claims.clientID.description,
            subject: claims.subject,
            audience: claims.audience,
            issuedAt: claims.issuedAt,
            expiresAt: claims.expiresAt,
            binding: binding.stored,
            status: status
        )
    }
}

extension TokenService {
    /// Binds the token: to the DPoP key of a valid, fresh, unused proof when one is sent (RFC 9449); else to
    /// the client certificate the request came over (RFC 8705 §3); else bearer, if the grant allows it.
    func bind(
        _ dpopProof: String?,
        certificate: PresentedSVID?,
        caller: WorkloadIdentity,
        task grant: Grant,
        now: Date
    ) throws(BrokerError) -> TokenBinding {
        if let dpopProof {
            return try bindToProof(dpopProof, overMutualTLS: certificate != nil, by: caller.id, now: now)
        }
        if let certificate, certificate.identity.id == caller.id {
            return TokenBinding(confirmation: .mutualTLS(certificateThumbprint: certificate.thumbprint), proof: nil)
        }
        guard grant.bearerTokensAllowed else {
            context.metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
            throw BrokerError(
                .invalidDPoPProof,
                "this task's tokens must be bound: send a DPoP proof, or ask over mutual TLS"
            )
        }
        return TokenBinding(confirmation: nil, proof: nil)
    }

    func bindToProof(
        _ proofText: String,
        overMutualTLS: Bool,
        by caller: SPIFFEID,
        now: Date
    ) throws(BrokerError) -> TokenBinding {
        let settings = context.settings
        let proof: DPoPProof.Verified
        do {
            proof = try DPoPProof.verify(
                proofText,
                method: "POST",
                url: overMutualTLS ? settings.mutualTLSTokenEndpoint ?? "" : settings.tokenEndpoint,
                accessToken: nil as String?,
                now: now,
                window: Self.proofWindow
            )
        } catch {
            context.metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
            throw BrokerError(.invalidDPoPProof, "DPoP: \(error.description)")
        }
        if settings.requireDPoPNonces, !(proof.nonce.map { dpopNonces.valid(now: now).contains($0) } ?? false) {
            var refusal = BrokerError(.useDPoPNonce, "make the proof again with the nonce in DPoP-Nonce")
            refusal.dpopNonce = dpopNonces.current(now: now)
            throw refusal
        }
        // RFC 9449 §11.1: a proof is good for one request, so its id is remembered while it could be accepted;
        // the short window keeps that memory small at thousands of requests a second.
        let expiry = proof.issuedAt.addingTimeInterval(Self.proofWindow.maximumAge + Self.proofWindow.maximumFutureSkew)
        switch proofReplays.record(id: proof.id, keyThumbprint: proof.keyThumbprint, expiry: expiry, now: now) {
        case .fresh: break
        case .replayed:
            context.metrics.denied(BrokerError.Code.invalidDPoPProof.rawValue)
            context.observe(BrokerSignal(code: "broker_proof_replayed", workload: caller))
            throw BrokerError(.invalidDPoPProof, "DPoP: proof_replayed: this DPoP proof was already used")
        case .full:
            throw BrokerError(
                .invalidDPoPProof,
                "DPoP: proof_invalid: too many live proofs from this key; retry shortly"
            )
        }
        return TokenBinding(
            confirmation: .dpop(jwkThumbprint: proof.keyThumbprint),
            proof: UsedProof(keyThumbprint: proof.keyThumbprint, id: proof.id, expiresAt: expiry)
        )
    }
}
