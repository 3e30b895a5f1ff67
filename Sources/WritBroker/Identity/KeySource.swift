import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WritToken

/// Where an issuer's keys come from: a JWKS file, or a JWKS URL.
public enum KeySource: Sendable, Hashable, CustomStringConvertible {
    /// A file, re-read when it changes.
    case file(String)
    /// A URL, fetched at start and refreshed periodically.
    case url(String)

    public var description: String {
        switch self {
        case .file(let path): return path
        case .url(let url): return url
        }
    }

    /// The largest key document accepted.
    static let maximumDocument = 256 * 1024

    /// Loads the key set now.
    func load(client: HTTPClient) async throws -> IdentityKeySet {
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyError.invalidJWKS("cannot read \(path)")
            }
            guard data.count <= Self.maximumDocument else { throw KeyError.invalidJWKS("\(path) is too large") }
            return try IdentityKeySet(jsonBytes: Array(data))
        case .url(let url):
            // Checked when the configuration loads too; here again so no other path can fetch keys in clear.
            switch PlainHTTPPolicy.verdict(for: url) {
            case .encrypted, .loopback: break
            case .plainToOtherHost, .refused:
                throw KeyError.invalidJWKS("\(url) is refused: keys come over https, or plain http on this machine")
            }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await client.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw KeyError.invalidJWKS("\(url) answered \(response.status.code)") }
            let body = try await response.body.collect(upTo: Self.maximumDocument)
            return try IdentityKeySet(jsonBytes: Array(buffer: body))
        }
    }

    /// A fingerprint that changes when the source may have changed: a file's size and modification time.
    /// URLs have none; they are refetched on every refresh.
    var fileFingerprint: String? {
        guard case .file(let path) = self,
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        else { return nil }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        return "\(modified):\(size)"
    }
}
