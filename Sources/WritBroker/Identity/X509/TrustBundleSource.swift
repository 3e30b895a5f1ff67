import Foundation
import X509

/// Where one trust domain's X.509 roots come from: a PEM file or a SPIFFE bundle file, re-read when it
/// changes.
public struct TrustBundleSource: Sendable, Hashable {
    /// The file formats.
    public enum Format: Sendable, Hashable {
        /// PEM certificates.
        case pem
        /// A SPIFFE bundle (JWKS).
        case spiffeBundle
    }

    /// The trust domain.
    public let trustDomain: String
    /// The file.
    public let file: String
    /// Its format.
    public let format: Format

    /// A source.
    public init(trustDomain: String, file: String, format: Format) {
        self.trustDomain = trustDomain
        self.file = file
        self.format = format
    }

    /// The file's size and modification time, which change when it may have.
    var fingerprint: String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { return nil }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(modified):\((attributes[.size] as? NSNumber)?.intValue ?? 0)"
    }

    /// Reads the roots.
    func load() throws(SVIDError) -> [Certificate] {
        guard let data = FileManager.default.contents(atPath: file), data.count <= 1 << 20 else {
            throw SVIDError(.malformed, "cannot read \(file)")
        }
        switch format {
        case .pem: return try TrustBundles.certificates(pem: String(decoding: data, as: UTF8.self))
        case .spiffeBundle: return try TrustBundles.certificates(spiffeBundle: Array(data))
        }
    }
}
