import Crypto
public import Foundation
import NIOPosix
import Synchronization
import WritToken

/// An authenticated operator.
public struct OperatorIdentity: Sendable, Hashable {
    /// Its id.
    public let id: String
    /// Its name.
    public let name: String
    /// Its role.
    public let role: OperatorRole

    /// How the audit log names it.
    public var auditName: String { "operator:\(name)" }
}

/// Creates and checks operator tokens: `wop_` + a public id + `_` + a 256-bit secret. Only an Argon2id hash of
/// the secret is stored. Checks run on a thread pool behind an ``AdmissionGate``; a successful check is
/// remembered for a short while by a SHA-256 of the token, so a busy operator does not pay Argon2id per call.
public final class OperatorAuthenticator: Sendable {
    /// The prefix every operator token starts with.
    public static let prefix = "wop_"

    private let store: any OperatorStore
    private let gate: AdmissionGate
    private let cacheLifetime: TimeInterval
    private struct Cached: Sendable {
        let identity: OperatorIdentity
        let until: Date
    }
    private let cache = Mutex<[SHA256Digest: Cached]>([:])

    /// An authenticator; `concurrency` Argon2id checks at once, `queue` more waiting.
    public init(store: any OperatorStore, concurrency: Int, queue: Int = 32, cacheLifetime: TimeInterval = 60) {
        self.store = store
        self.gate = AdmissionGate(width: concurrency, queue: queue)
        self.cacheLifetime = cacheLifetime
    }

    /// A new token and the record to store for it. The token is shown once and never stored.
    public static func makeToken(name: String, role: OperatorRole, now: Date) throws -> (String, OperatorRecord) {
        let id = Base64URL.encode(SecureRandom.bytes(9))
            .replacingOccurrences(of: "_", with: "A").replacingOccurrences(of: "-", with: "B")
        let secret = Base64URL.encode(SecureRandom.bytes(32))
        let record = OperatorRecord(
            id: id,
            name: name,
            role: role,
            hash: try Argon2id.hash(secret),
            createdAt: now,
            revokedAt: nil
        )
        return ("\(prefix)\(id)_\(secret)", record)
    }

    /// Creates an operator and returns its token.
    public func create(name: String, role: OperatorRole, by actor: String = "broker", now: Date) async throws -> String
    {
        let (token, record) = try await NIOThreadPool.singleton.runIfActive {
            try Self.makeToken(name: name, role: role, now: now)
        }
        let event = AuditEvent(
            "operator.created",
            actor: actor,
            subject: "operator:\(name)",
            detail: .object(["role": .string(role.rawValue)])
        )
        try await store.insert(record, audit: event)
        return token
    }

    /// Revokes the operator named `name` (or with that id): its token is refused from the next request on,
    /// by this process and any broker sharing the database. Nil when there is no such operator.
    public func revoke(name: String, by actor: String, now: Date) async throws -> OperatorRecord? {
        let record = try await store.revoke(nameOrID: name, actor: actor, at: now)
        if let record {
            cache.withLock { cache in cache = cache.filter { $0.value.identity.id != record.id } }
        }
        return record
    }

    /// The operator store could not be read: 503 while the database cannot be reached (the check is retried),
    /// 500 otherwise; refused either way.
    static func unreadable(_ error: any Error) -> BrokerError {
        if let error = error as? PostgresStoreError, error.unavailable { return .databaseUnavailable }
        return BrokerError(.internalError, "the operator store is unreadable")
    }

    /// Whether an operator has been revoked since it was authenticated (a stream asks as it runs).
    public func isRevoked(id: String) async throws(BrokerError) -> Bool {
        do {
            return try await store.isRevoked(id: id)
        } catch {
            throw Self.unreadable(error)
        }
    }

    /// Checks a presented token; nil when it is not a valid, unrevoked operator token.
    /// Throws ``BrokerError/Code/unavailable`` when too many checks are already running.
    public func authenticate(_ token: String, now: Date) async throws(BrokerError) -> OperatorIdentity? {
        guard token.hasPrefix(Self.prefix), token.utf8.count < 200 else { return nil }
        let digest = SHA256.hash(data: Array(token.utf8))
        if let cached = cache.withLock({ $0[digest] }), cached.until > now {
            // Revocation may come from another process (`writ operator revoke` on the broker host): a cached
            // check is believed only while the operator's row still says it is not revoked.
            let revoked: Bool
            do {
                revoked = try await store.isRevoked(id: cached.identity.id)
            } catch {
                throw Self.unreadable(error)
            }
            guard !revoked else {
                cache.withLock { _ = $0.removeValue(forKey: digest) }
                return nil
            }
            return cached.identity
        }
        let parts = token.dropFirst(Self.prefix.count).split(separator: "_", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let id = String(parts[0])
        let secret = String(parts[1])
        let record: OperatorRecord?
        do {
            record = try await store.fetch(id: id)
        } catch {
            throw Self.unreadable(error)
        }
        guard let record, record.revokedAt == nil else { return nil }
        let outcome: Bool?
        do {
            outcome = try await gate.run {
                try await NIOThreadPool.singleton.runIfActive { Argon2id.verify(secret, against: record.hash) }
            }
        } catch {
            throw BrokerError(.internalError, "the operator check failed")
        }
        guard let matches = outcome else {
            throw BrokerError(.unavailable, "too many operator checks are running; retry shortly", retryAfter: 1)
        }
        guard matches else { return nil }
        let identity = OperatorIdentity(id: record.id, name: record.name, role: record.role)
        cache.withLock { cache in
            if cache.count > 1024 { cache.removeAll() }
            cache[digest] = Cached(identity: identity, until: now.addingTimeInterval(cacheLifetime))
        }
        return identity
    }

}
