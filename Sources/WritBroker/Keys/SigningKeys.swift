public import Foundation
import GRDB
public import WritToken

/// The keys the broker signs with and publishes: the active one signs, every unretired one is in the JWKS.
public struct SigningKeys: Sendable {
    /// The key new tokens are signed with.
    public let active: SigningKey
    /// Every key published at `/.well-known/jwks.json`.
    public let published: JSONWebKeySet

    /// Keys from the active one and any others still published.
    public init(active: SigningKey, others: [VerificationKey] = []) throws(KeyError) {
        self.active = active
        self.published = try JSONWebKeySet(keys: [active.verificationKey] + others)
    }

    /// Loads the unretired keys recorded in the database from `directory`, generating and recording a first
    /// ES256 key when there is none. The newest unretired key is the active one.
    public static func loadOrCreate(database: BrokerDatabase, directory: URL, now: Date) throws -> SigningKeys {
        let rows = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT kid, file FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at")
        }
        var keys: [SigningKey] = []
        for row in rows {
            let kid: String = row["kid"]
            let file: String = row["file"]
            let path = directory.appendingPathComponent(file).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyError.invalidPEM("signing key \(kid) is recorded but \(path) cannot be read")
            }
            keys.append(
                SigningKey(
                    id: kid,
                    privateKey: try PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
                )
            )
        }
        if keys.isEmpty {
            let key = try create(database: database, directory: directory, now: now)
            keys.append(key)
        }
        let active = keys.removeLast()
        return try SigningKeys(active: active, others: keys.map(\.verificationKey))
    }

    /// Generates an ES256 key, writes it (mode 0600) and records it; the file is durable before the record.
    static func create(database: BrokerDatabase, directory: URL, now: Date) throws -> SigningKey {
        let privateKey = PrivateKey.generate(.es256)
        let kid = privateKey.publicKey.thumbprint
        let file = "\(kid).pem"
        try SecretFile.write(Array(privateKey.pemRepresentation.utf8), to: directory.appendingPathComponent(file).path)
        try database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO signing_keys (kid, algorithm, file, created_at) VALUES (?, ?, ?, ?)",
                arguments: [kid, "ES256", file, now.timeIntervalSince1970]
            )
            try AuditLog.append(
                db,
                event: "key.created",
                actor: "broker",
                subject: kid,
                detail: .object(["alg": .string("ES256")]),
                at: now
            )
        }
        return SigningKey(id: kid, privateKey: privateKey)
    }

    /// The published key with this `kid`.
    public func key(id: String) -> VerificationKey? { published.key(id: id) }
}
