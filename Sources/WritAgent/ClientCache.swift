import AsyncHTTPClient
import Foundation
import NIOPosix
import NIOSSL
import Synchronization

/// The agent's HTTP client; for an X.509 identity, rebuilt when the SVID files change (rotation).
final class ClientCache: Sendable {
    let identity: WritAgent.Identity
    private let state = Mutex<(client: HTTPClient?, fingerprint: String, retired: [HTTPClient])>((nil, "", []))

    init(identity: WritAgent.Identity) { self.identity = identity }

    func client() throws -> HTTPClient {
        let fingerprint = Self.fingerprint(identity)
        if let current = state.withLock({ $0.fingerprint == fingerprint ? $0.client : nil }) { return current }
        var configuration = HTTPClient.Configuration()
        if case .x509(let certificateFile, let keyFile, let trustFile) = identity {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trustFile))
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        state.withLock { state in
            if let old = state.client { state.retired.append(old) }
            state = (client, fingerprint, state.retired)
        }
        return client
    }

    func shutdown() async {
        let all = state.withLock { state -> [HTTPClient] in
            defer { state = (nil, "", []) }
            return (state.client.map { [$0] } ?? []) + state.retired
        }
        for client in all { try? await client.shutdown() }
    }

    static func fingerprint(_ identity: WritAgent.Identity) -> String {
        guard case .x509(let certificateFile, let keyFile, _) = identity else { return "jwt" }
        return [certificateFile, keyFile].map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(path):\(modified):\((attributes?[.size] as? NSNumber)?.intValue ?? 0)"
        }.joined(separator: "|")
    }
}
