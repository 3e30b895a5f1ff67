public import Foundation
public import WritToken

/// The broker's state directory: the SQLite database, the signing keys, and in development the keys of the
/// development trust domain and identity provider.
///
///     STATE/writ.sqlite        the database (plus -wal and -shm files)
///     STATE/keys/KID.pem       signing keys, mode 0600
///     STATE/operator-token     the first operator's token, mode 0600, written once
///     STATE/dev/…              development trust domain and identity provider keys
public struct StateDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// A state directory at `path`; ``prepare()`` creates it.
    public init(path: String) { self.url = URL(fileURLWithPath: path, isDirectory: true) }

    /// The database file.
    public var database: URL { url.appendingPathComponent("writ.sqlite") }
    /// The signing keys' directory.
    public var keys: URL { url.appendingPathComponent("keys", isDirectory: true) }
    /// The development keys' directory.
    public var development: URL { url.appendingPathComponent("dev", isDirectory: true) }
    /// Where the first operator's token is written.
    public var operatorToken: URL { url.appendingPathComponent("operator-token") }
    /// The secret DPoP nonces are derived from: brokers sharing this directory accept each other's nonces.
    public var dpopNonceSecretFile: URL { url.appendingPathComponent("dpop-nonce.key") }

    /// Creates the directories, each mode 0700.
    public func prepare() throws {
        for directory in [url, keys, development] {
            try FileManager.default.createDirectory(
                at: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
    }

    /// The DPoP nonce secret, made (32 random bytes, owner-only) on first use. It is written whole to a file of
    /// its own and then linked into place, so a crash never leaves a short secret, and two brokers making it
    /// at once agree on the one linked first.
    public func dpopNonceSecret() throws -> [UInt8] {
        let path = dpopNonceSecretFile.path
        if FileManager.default.fileExists(atPath: path) { return try Self.readSecret(path) }
        let fresh = SecureRandom.bytes(32)
        let temporary = path + ".\(UUID().uuidString)"
        try SecretFile.write(fresh, to: temporary)
        defer { unlink(temporary) }
        if link(temporary, path) == 0 { return fresh }
        return try Self.readSecret(path)
    }

    private static func readSecret(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw SecretFile.WriteError(
                description: "\(path) is not a 32-byte DPoP nonce secret; remove it and every broker sharing this "
                    + "directory makes it again at its next start"
            )
        }
        return Array(data)
    }

    /// A private key kept in a file of the state directory, created (mode 0600) on first use.
    public func developmentKey(named name: String) throws -> SigningKey {
        let path = development.appendingPathComponent("\(name).pem").path
        if let data = FileManager.default.contents(atPath: path) {
            let key = try PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
            return SigningKey(id: "\(name)-\(key.publicKey.thumbprint.prefix(16))", privateKey: key)
        }
        let key = PrivateKey.generate(.es256)
        try SecretFile.write(Array(key.pemRepresentation.utf8), to: path)
        return SigningKey(id: "\(name)-\(key.publicKey.thumbprint.prefix(16))", privateKey: key)
    }
}
