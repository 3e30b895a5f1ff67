public import Foundation
public import WritToken

/// The keys the broker signs with and publishes: the newest key whose activation time has come signs, and
/// every unretired key (including one waiting to sign) is in the JWKS.
public struct SigningKeys: Sendable {
    /// The key new tokens are signed with.
    public let active: SigningKey
    /// Every key published at `/.well-known/jwks.json`.
    public let published: JSONWebKeySet
    /// The unretired keys' records, oldest first.
    public let records: [SigningKeyRecord]

    /// Keys from the active one and any others still published.
    public init(
        active: SigningKey,
        others: [VerificationKey] = [],
        records: [SigningKeyRecord] = []
    )
        throws(KeyError)
    {
        self.active = active
        self.published = try JSONWebKeySet(keys: [active.verificationKey] + others)
        self.records = records
    }

    /// Loads the unretired keys recorded in the store from `directory`, generating and recording a first key
    /// when there is none.
    public static func loadOrCreate(store: any KeyStore, directory: URL, now: Date) async throws -> SigningKeys {
        var records = try await store.listUnretired()
        if records.isEmpty {
            let (key, file) = try generate(directory: directory)
            let record = SigningKeyRecord(id: key.id, algorithm: "ES256", file: file, createdAt: now)
            try await store.insert(record, actor: "broker", at: now)
            records = try await store.listUnretired()
        }
        return try load(records: records, directory: directory, now: now)
    }

    /// The keys for these records: private keys read from `directory`.
    static func load(records: [SigningKeyRecord], directory: URL, now: Date) throws -> SigningKeys {
        var keys: [SigningKey] = []
        for record in records {
            let path = directory.appendingPathComponent(record.file).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyError.invalidPEM("signing key \(record.id) is recorded but \(path) cannot be read")
            }
            keys.append(
                SigningKey(
                    id: record.id,
                    privateKey: try PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
                )
            )
        }
        let usable = records.indices.filter { records[$0].signs(at: now) }
        guard let activeIndex = usable.last else {
            throw KeyError.invalidPEM("no recorded signing key may sign yet")
        }
        let active = keys[activeIndex]
        let others = keys.indices.filter { $0 != activeIndex }.map { keys[$0].verificationKey }
        return try SigningKeys(active: active, others: others, records: records)
    }

    /// Generates an ES256 key and writes it (mode 0600); the key store records it. The file
    /// is durable before the record.
    static func generate(directory: URL) throws -> (SigningKey, file: String) {
        let privateKey = PrivateKey.generate(.es256)
        let kid = privateKey.publicKey.thumbprint
        let file = "\(kid).pem"
        try SecretFile.write(Array(privateKey.pemRepresentation.utf8), to: directory.appendingPathComponent(file).path)
        return (SigningKey(id: kid, privateKey: privateKey), file)
    }

    /// The published key with this `kid`.
    public func key(id: String) -> VerificationKey? { published.key(id: id) }
}
