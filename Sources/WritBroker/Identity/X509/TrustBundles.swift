import Foundation
import SwiftASN1
import Synchronization
import WritToken
public import X509

/// The X.509 roots of each trust domain the broker accepts SVIDs from (several at once: federation).
/// Replaced as a whole, so a reload never leaves a half-updated set.
public final class TrustBundles: Sendable {
    private let bundles = Mutex<[String: [Certificate]]>([:])

    /// An empty set.
    public init() {}

    /// Replaces the roots of one trust domain.
    public func install(_ roots: [Certificate], for trustDomain: String) {
        bundles.withLock { $0[trustDomain] = roots }
    }

    /// The roots of a trust domain, or nil when it is not trusted.
    public func roots(for trustDomain: String) -> [Certificate]? {
        bundles.withLock { $0[trustDomain] }
    }

    /// Reads every certificate of a PEM document.
    public static func certificates(pem text: String) throws(SVIDError) -> [Certificate] {
        var certificates: [Certificate] = []
        do {
            for document in try PEMDocument.parseMultiple(pemString: text) where document.discriminator == "CERTIFICATE"
            {
                certificates.append(try Certificate(pemDocument: document))
            }
        } catch {
            throw SVIDError(.malformed, "the bundle is not a PEM list of certificates")
        }
        guard !certificates.isEmpty else { throw SVIDError(.malformed, "the bundle holds no certificate") }
        return certificates
    }

    /// Reads the X.509 roots of a SPIFFE bundle (a JWKS whose `x509-svid` keys carry `x5c`).
    public static func certificates(spiffeBundle bytes: [UInt8]) throws(SVIDError) -> [Certificate] {
        guard let document = try? StrictJSON(maximumDepth: 8).parse(bytes: bytes),
            let keys = document.objectValue?["keys"]?.arrayValue
        else { throw SVIDError(.malformed, "the SPIFFE bundle is not a JWKS") }
        var certificates: [Certificate] = []
        for key in keys {
            guard let members = key.objectValue, members["use"]?.stringValue == "x509-svid",
                let chain = members["x5c"]?.arrayValue, let first = chain.first?.stringValue,
                let der = Data(base64Encoded: first)
            else { continue }
            guard let certificate = try? Certificate(derEncoded: Array(der)) else {
                throw SVIDError(.malformed, "an x5c entry of the SPIFFE bundle is not a certificate")
            }
            certificates.append(certificate)
        }
        guard !certificates.isEmpty else { throw SVIDError(.malformed, "the SPIFFE bundle holds no x509-svid root") }
        return certificates
    }
}
