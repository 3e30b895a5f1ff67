public import Foundation
public import WritToken
public import X509

/// Accepts a client certificate chain only as an X.509-SVID (SPIFFE X.509-SVID §4–5): exactly one URI SAN
/// holding a valid SPIFFE ID, a leaf that is not a CA, key usage with digitalSignature and without
/// keyCertSign or cRLSign, within its validity, chaining (through the intermediates presented) to a root of
/// *its own* trust domain's bundle — a certificate for one domain signed by another domain's CA is refused.
public struct X509SVIDValidator: Sendable {
    /// The trust bundles.
    public let bundles: TrustBundles

    /// A validator over a set of bundles.
    public init(bundles: TrustBundles) { self.bundles = bundles }

    /// Validates a chain, leaf first, and returns the SPIFFE ID it proves.
    public func validate(_ chain: [Certificate], now: Date) async throws(SVIDError) -> SPIFFEID {
        guard let leaf = chain.first else { throw SVIDError(.missing, "no client certificate was presented") }
        let id = try Self.identity(of: leaf)
        if let constraints = try? leaf.extensions.basicConstraints, case .isCertificateAuthority = constraints {
            throw SVIDError(.caLeaf, "the leaf is a CA certificate")
        }
        guard let usage = try? leaf.extensions.keyUsage else {
            throw SVIDError(.keyUsage, "the leaf has no key usage extension")
        }
        guard usage.digitalSignature, !usage.keyCertSign, !usage.cRLSign else {
            throw SVIDError(.keyUsage, "an SVID's key usage has digitalSignature and neither keyCertSign nor cRLSign")
        }
        guard now <= leaf.notValidAfter else { throw SVIDError(.expired, "the certificate has expired") }
        guard now >= leaf.notValidBefore else { throw SVIDError(.notYetValid, "the certificate is not valid yet") }
        guard let roots = bundles.roots(for: id.trustDomain) else {
            throw SVIDError(.unknownTrustDomain, "no trust bundle for \(id.trustDomain)")
        }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(validationTime: now)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
        guard case .validCertificate = result else {
            throw SVIDError(.untrusted, "the chain does not lead to a root of \(id.trustDomain)")
        }
        return id
    }

    /// The SPIFFE ID in a leaf's single URI SAN.
    static func identity(of leaf: Certificate) throws(SVIDError) -> SPIFFEID {
        let names: SubjectAlternativeNames
        do {
            guard let found = try leaf.extensions.subjectAlternativeNames else {
                throw SVIDError(.uriSAN, "the leaf has no subject alternative names")
            }
            names = found
        } catch let error as SVIDError {
            throw error
        } catch {
            throw SVIDError(.malformed, "the subject alternative names do not parse")
        }
        var uris: [String] = []
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name { uris.append(uri) }
        }
        guard uris.count == 1, let uri = uris.first else {
            throw SVIDError(.uriSAN, "an SVID has exactly one URI SAN; this one has \(uris.count)")
        }
        do {
            return try SPIFFEID(uri)
        } catch {
            throw SVIDError(.notSPIFFE, "the URI SAN is not a SPIFFE ID: \(error.reason)")
        }
    }
}
