public import Foundation
public import Logging
import SwiftASN1
import Synchronization
public import WritPolicy
public import WritToken
import X509

/// A workload proven by an X.509-SVID, with the thumbprint its tokens are bound to (RFC 8705 `x5t#S256`).
public struct PresentedSVID: Sendable, Hashable {
    /// The workload, attested as `x509-svid`.
    public let identity: WorkloadIdentity
    /// base64url SHA-256 of the leaf's DER.
    public let thumbprint: String
}

/// Workload identity by X.509-SVID: the trust bundles per trust domain, reloaded when their files change, and
/// the check of a presented chain. (JWT-SVID assertions are checked by the ``IdentityRegistry``.)
public final class CertificateAuthenticator: Sendable {
    /// The X.509 trust bundles, by trust domain.
    public let bundles: TrustBundles
    let sources: [TrustBundleSource]
    let fingerprints = Mutex<[String: String]>([:])
    let clock: any WritClock
    let logger: Logger
    let metrics: BrokerMetrics

    /// An authenticator over bundles loaded from `sources`.
    public init(
        bundles: TrustBundles,
        sources: [TrustBundleSource],
        clock: any WritClock,
        logger: Logger,
        metrics: BrokerMetrics
    ) {
        self.bundles = bundles
        self.sources = sources
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
    }

    /// Checks a presented chain (DER, leaf first) as an X.509-SVID.
    public func authenticate(chain: [[UInt8]]) async throws(BrokerError) -> (PresentedSVID, until: Date) {
        guard let leafDER = chain.first else {
            throw BrokerError(.unauthenticated, "svid_missing: present an X.509-SVID")
        }
        var certificates: [Certificate] = []
        for der in chain {
            guard let certificate = try? Certificate(derEncoded: der) else {
                throw BrokerError(.unauthenticated, "svid_malformed: a presented certificate does not parse")
            }
            certificates.append(certificate)
        }
        let id: SPIFFEID
        do {
            id = try await X509SVIDValidator(bundles: bundles).validate(certificates, now: clock.now)
        } catch {
            metrics.denied(error.code.rawValue)
            throw BrokerError(.unauthenticated, error.description)
        }
        let presented = PresentedSVID(
            identity: WorkloadIdentity(id: id, attestation: .x509SVID),
            thumbprint: SHA256Thumbprint.of(leafDER)
        )
        return (presented, certificates[0].notValidAfter)
    }

    /// The SVID of a mutual-TLS connection, checked once per connection and remembered while the leaf is
    /// valid and the bundles are unchanged.
    public func authenticate(connection: ClientCertificates.Connection) async throws(BrokerError) -> PresentedSVID {
        let now = clock.now
        if let (identity, thumbprint) = connection.verified(now: now) {
            return PresentedSVID(identity: identity, thumbprint: thumbprint)
        }
        let (presented, until) = try await authenticate(chain: connection.chain)
        connection.remember(presented.identity, thumbprint: presented.thumbprint, until: until)
        return presented
    }

    /// Re-reads every trust bundle file that changed; a file that fails keeps its previous roots. When any
    /// bundle changes, connections' remembered identities are forgotten so their SVIDs are checked again.
    public func reloadTrustBundles() {
        var changed = false
        for source in sources {
            guard let fingerprint = source.fingerprint else {
                logger.error("trust bundle unreadable; previous roots kept", metadata: ["file": "\(source.file)"])
                continue
            }
            if fingerprints.withLock({ $0[source.file] }) == fingerprint { continue }
            do {
                bundles.install(try source.load(), for: source.trustDomain)
                fingerprints.withLock { $0[source.file] = fingerprint }
                changed = true
                logger.info("trust bundle loaded", metadata: ["trust_domain": "\(source.trustDomain)"])
            } catch {
                logger.error(
                    "trust bundle rejected; previous roots kept",
                    metadata: ["trust_domain": "\(source.trustDomain)", "error": "\(error)"]
                )
            }
        }
        if changed { ClientCertificates.live.forgetVerified() }
    }
}
