public import Foundation
public import GRDB
public import WritToken

/// One signing key as recorded, with where it stands in its life: published ahead of use, signing, kept
/// published until its last token has expired, then retired.
public struct SigningKeyRecord: Sendable, Hashable {
    /// The key id (its RFC 7638 thumbprint).
    public var id: String
    /// `ES256` or `EdDSA`.
    public var algorithm: String
    /// The file in the keys directory holding the private key.
    public var file: String
    /// When it was made (and first published).
    public var createdAt: Date
    /// When it starts signing; nil for a key that signed from the start.
    public var activatesAt: Date?
    /// When it leaves the JWKS: set once a newer key takes over, to when its last token has expired.
    public var retiresAt: Date?
    /// When it left the JWKS.
    public var retiredAt: Date?

    /// Whether its activation time has come (a key recorded without one signed from the start).
    public func signs(at now: Date) -> Bool { activatesAt.map { Self.reached($0, at: now) } ?? true }

    /// Whether `time` has come at `now`, allowing for the microsecond a stored time can lose on its way
    /// through the database (seconds since 1970 there, since 2001 in `Date`).
    static func reached(_ time: Date, at now: Date) -> Bool {
        time.timeIntervalSince1970 <= now.timeIntervalSince1970 + 0.001
    }

    /// Where the key stands at `now`, given the id of the key that signs.
    public func state(activeID: String, now: Date) -> String {
        if retiredAt != nil { return "retired" }
        if id == activeID { return "active" }
        if !signs(at: now) { return "pending" }
        return "retiring"
    }

    /// The record as the admin API returns it.
    public func json(activeID: String, now: Date) -> JSONValue {
        var members: [String: JSONValue] = [
            "kid": .string(id),
            "alg": .string(algorithm),
            "state": .string(state(activeID: activeID, now: now)),
            "created_at": .integer(createdAt.numericDate),
        ]
        if let activatesAt { members["activates_at"] = .integer(activatesAt.numericDate) }
        if let retiresAt { members["retires_at"] = .integer(retiresAt.numericDate) }
        if let retiredAt { members["retired_at"] = .integer(retiredAt.numericDate) }
        return .object(members)
    }
}

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

    /// Loads the unretired keys recorded in the database from `directory`, generating and recording a first
    /// ES256 key when there is none. The newest key whose activation time has come is the active one.
    public static func loadOrCreate(database: BrokerDatabase, directory: URL, now: Date) throws -> SigningKeys {
        var records = try database.pool.read { db in try unretired(db) }
        if records.isEmpty {
            _ = try create(database: database, directory: directory, now: now)
            records = try database.pool.read { db in try unretired(db) }
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

    /// The unretired keys, oldest first.
    public static func unretired(_ db: Database) throws -> [SigningKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, rowid")
            .map(record)
    }

    /// Every key ever recorded, oldest first.
    public static func all(_ db: Database) throws -> [SigningKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, rowid").map(record)
    }

    private static func record(_ row: Row) -> SigningKeyRecord {
        func date(_ column: String) -> Date? { (row[column] as Double?).map { Date(timeIntervalSince1970: $0) } }
        return SigningKeyRecord(
            id: row["kid"],
            algorithm: row["algorithm"],
            file: row["file"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            activatesAt: date("activates_at"),
            retiresAt: date("retires_at"),
            retiredAt: date("retired_at")
        )
    }

    /// Generates an ES256 key and writes it (mode 0600); ``record(_:_:activatesAt:now:)`` records it. The file
    /// is durable before the record.
    static func generate(directory: URL) throws -> (SigningKey, file: String) {
        let privateKey = PrivateKey.generate(.es256)
        let kid = privateKey.publicKey.thumbprint
        let file = "\(kid).pem"
        try SecretFile.write(Array(privateKey.pemRepresentation.utf8), to: directory.appendingPathComponent(file).path)
        return (SigningKey(id: kid, privateKey: privateKey), file)
    }

    /// Records a generated key and audits it.
    static func record(
        _ db: Database,
        _ key: SigningKey,
        file: String,
        activatesAt: Date?,
        actor: String,
        now: Date
    )
        throws
    {
        try db.execute(
            sql: "INSERT INTO signing_keys (kid, algorithm, file, created_at, activates_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [key.id, "ES256", file, now.timeIntervalSince1970, activatesAt?.timeIntervalSince1970]
        )
        var detail: [String: JSONValue] = ["alg": .string("ES256")]
        if let activatesAt { detail["activates_at"] = .integer(activatesAt.numericDate) }
        try AuditLog.append(db, event: "key.created", actor: actor, subject: key.id, detail: .object(detail), at: now)
    }

    /// Generates and records a first key that signs at once.
    static func create(database: BrokerDatabase, directory: URL, now: Date) throws -> SigningKey {
        let (key, file) = try generate(directory: directory)
        try database.pool.write { db in
            try record(db, key, file: file, activatesAt: nil, actor: "broker", now: now)
        }
        return key
    }

    /// The published key with this `kid`.
    public func key(id: String) -> VerificationKey? { published.key(id: id) }
}
