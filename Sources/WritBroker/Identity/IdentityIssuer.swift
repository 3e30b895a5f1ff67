import Foundation
public import WritPolicy
import WritToken

/// One issuer of identity assertions the broker trusts, with what it may vouch for.
public struct IdentityIssuer: Sendable {
    /// What an issuer's assertions prove.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        /// JWT-SVIDs: `sub` is a SPIFFE ID in the issuer's trust domain.
        case jwtSVID = "jwt-svid"
        /// Kubernetes projected service-account tokens: `sub` is `system:serviceaccount:NS:NAME`, which
        /// becomes `spiffe://TRUST_DOMAIN/ns/NS/sa/NAME`.
        case kubernetes
        /// Other OIDC workload tokens whose `sub` is a SPIFFE ID in the issuer's trust domain.
        case oidc
        /// A user identity provider: ID tokens naming the human a task is for.
        case user
        /// A Shared Signals transmitter (an identity provider, an EDR): its security events revoke users and
        /// workloads.
        case signals
    }

    /// A name for logs and metrics (the trust domain, or the issuer URL).
    public let name: String
    /// What its assertions prove.
    public let kind: Kind
    /// The trust domain its workloads belong to (not for user issuers).
    public let trustDomain: String?
    /// The `iss` and `aud` pinned.
    public let verifier: AssertionVerifier
    /// Where its keys come from.
    public let keySource: KeySource

    /// An issuer.
    public init(name: String, kind: Kind, trustDomain: String?, issuer: String?, audience: String, keys: KeySource) {
        self.name = name
        self.kind = kind
        self.trustDomain = trustDomain
        self.verifier = AssertionVerifier(issuer: issuer, audience: audience)
        self.keySource = keys
    }

    /// How a workload proven by this issuer is attested to the policy.
    public var attestation: Attestation { kind == .jwtSVID ? .jwtSVID : .oidc }

    /// Whether an unverified `iss` and `sub` point to this issuer.
    func routes(issuer: String?, subject: String?) -> Bool {
        if let pinned = verifier.issuer { return issuer == pinned }
        guard let trustDomain, let subject, let id = try? SPIFFEID(subject) else { return false }
        return id.trustDomain == trustDomain
    }

    /// The SPIFFE ID a verified workload assertion proves.
    func workloadID(for assertion: VerifiedAssertion) throws(VerificationError) -> SPIFFEID {
        guard let trustDomain else { throw .wrongIssuer("this issuer does not vouch for workloads") }
        switch kind {
        case .jwtSVID, .oidc:
            guard let id = try? SPIFFEID(assertion.subject) else { throw .malformed("sub is not a SPIFFE ID") }
            guard id.trustDomain == trustDomain else {
                throw .wrongIssuer("\(name) does not vouch for trust domain \(id.trustDomain)")
            }
            return id
        case .kubernetes:
            let parts = assertion.subject.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount",
                let id = try? SPIFFEID(trustDomain: trustDomain, path: "/ns/\(parts[2])/sa/\(parts[3])")
            else { throw .malformed("sub is not a Kubernetes service account") }
            return id
        case .user:
            throw .wrongIssuer("a user identity provider does not vouch for workloads")
        case .signals:
            throw .wrongIssuer("a Shared Signals transmitter does not vouch for workloads")
        }
    }
}
