import Crypto
public import Foundation
import SwiftASN1
public import WritToken
public import X509

/// The development trust domain's certificate authority: created in the state directory by the first start
/// with development on, so `writ dev svid` can issue X.509-SVIDs to try mutual TLS with. Never for
/// production: its key is a file beside the database.
public struct DevelopmentCA: Sendable {
    /// The CA certificate (the development trust domain's bundle).
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// The files, in STATE/dev.
    static let certificateFile = "ca.pem"
    static let keyFile = "ca-key.pem"

    /// Loads the CA of a state directory, creating it (key mode 0600) for `trustDomain` when missing.
    public static func loadOrCreate(in state: StateDirectory, trustDomain: String, now: Date) throws -> DevelopmentCA {
        let certificateURL = state.development.appendingPathComponent(certificateFile)
        let keyURL = state.development.appendingPathComponent(keyFile)
        if let certificateText = try? String(contentsOf: certificateURL, encoding: .utf8),
            let keyText = try? String(contentsOf: keyURL, encoding: .utf8)
        {
            return DevelopmentCA(
                certificate: try Certificate(pemEncoded: certificateText),
                key: try P256.Signing.PrivateKey(pemRepresentation: keyText)
            )
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Writ development CA")
            CommonName(trustDomain)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(5 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectAlternativeNames([.uniformResourceIdentifier("spiffe://\(trustDomain)")])
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        try? FileManager.default.removeItem(at: keyURL)
        try SecretFile.write(Array(key.pemRepresentation.utf8), to: keyURL.path)
        try pem(certificate).write(to: certificateURL, atomically: true, encoding: .utf8)
        return DevelopmentCA(certificate: certificate, key: key)
    }

    /// Issues an X.509-SVID for `id`: a P-256 key and a leaf with the SPIFFE ID as its only URI SAN,
    /// digitalSignature only, for client authentication.
    public func issue(
        for id: SPIFFEID,
        now: Date,
        lifetime: TimeInterval = 86_400
    ) throws -> (
        certificate: Certificate, privateKeyPEM: String
    ) {
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(lifetime),
            issuer: certificate.subject,
            subject: try DistinguishedName { OrganizationName("Writ development workload") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectAlternativeNames([.uniformResourceIdentifier(id.description)])
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key)
        )
        return (leaf, key.pemRepresentation)
    }

    /// Issues a TLS server certificate for the broker's development listener: `localhost` and 127.0.0.1.
    public func issueServerCertificate(now: Date) throws -> (certificate: Certificate, privateKeyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: certificate.subject,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key)
        )
        return (leaf, key.pemRepresentation)
    }

    /// A certificate as PEM text.
    public static func pem(_ certificate: Certificate) throws -> String {
        try certificate.serializeAsPEM().pemString + "\n"
    }
}
