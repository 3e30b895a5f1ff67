public import AsyncHTTPClient
import Crypto
public import Foundation
public import Logging
import Synchronization
public import WritPolicy
public import WritToken

/// The identity issuers the broker trusts and their current keys; authenticates workloads and users.
///
/// A workload presents the same assertion on many requests, so a verified one is remembered (by its exact
/// text, until it expires or the keys change) and later checks cost a dictionary lookup.
public final class IdentityRegistry: Sendable {
    /// Issuers that vouch for workloads.
    public let workloadIssuers: [IdentityIssuer]
    /// Issuers that vouch for users.
    public let userIssuers: [IdentityIssuer]
    /// The Shared Signals transmitters whose events the broker accepts.
    public let signalTransmitters: [IdentityIssuer]
    /// The most verified assertions remembered.
    public static let cacheCapacity = 16_384

    private struct Cached: Sendable {
        let identity: WorkloadIdentity
        let expiresAt: Date
    }
    private let keySets = Mutex<[String: IdentityKeySet]>([:])
    private let fingerprints = Mutex<[String: String]>([:])
    private let cache = Mutex<[String: Cached]>([:])
    /// Signed assertions already refused: each is reported once, however often it is replayed.
    private let refusedSigned = Mutex<Set<SHA256Digest>>([])

    /// A registry; keys are loaded by ``refresh(client:logger:)``.
    public init(
        workloadIssuers: [IdentityIssuer],
        userIssuers: [IdentityIssuer],
        signalTransmitters: [IdentityIssuer] = []
    ) {
        self.workloadIssuers = workloadIssuers
        self.userIssuers = userIssuers
        self.signalTransmitters = signalTransmitters
    }

    /// Installs a key set directly (for tests and for keys the broker generated itself).
    public func install(_ keys: IdentityKeySet, for issuer: String) {
        keySets.withLock { $0[issuer] = keys }
        cache.withLock { $0.removeAll() }
    }

    /// Loads every issuer's keys; a source that fails keeps its previous keys. Returns the names that failed.
    @discardableResult
    public func refresh(client: HTTPClient, logger: Logger, onlyFiles: Bool = false) async -> [String] {
        var failed: [String] = []
        for issuer in workloadIssuers + userIssuers + signalTransmitters {
            let fingerprint = issuer.keySource.fileFingerprint
            if onlyFiles, fingerprint == nil { continue }
            if let fingerprint, fingerprints.withLock({ $0[issuer.name] }) == fingerprint { continue }
            do {
                let keys = try await issuer.keySource.load(client: client)
                install(keys, for: issuer.name)
                if let fingerprint { fingerprints.withLock { $0[issuer.name] = fingerprint } }
                logger.debug(
                    "identity keys loaded",
                    metadata: ["issuer": "\(issuer.name)", "keys": "\(keys.keys.count)"]
                )
            } catch {
                failed.append(issuer.name)
                logger.error(
                    "identity keys not loaded; previous keys kept",
                    metadata: ["issuer": "\(issuer.name)", "source": "\(issuer.keySource)", "error": "\(error)"]
                )
            }
        }
        return failed
    }

    /// Authenticates a workload by its assertion. An assertion signed by its issuer but refused for its times,
    /// issuer or audience names the workload whose credential it is: `signedRefusal` is told which.
    public func authenticateWorkload(
        _ token: String,
        now: Date,
        signedRefusal: ((SPIFFEID) -> Void)? = nil
    ) throws(VerificationError) -> WorkloadIdentity {
        if let cached = cache.withLock({ $0[token] }), cached.expiresAt > now { return cached.identity }
        guard let routing = AssertionVerifier.unverifiedRouting(token) else {
            throw .malformed("the workload assertion is not a JWT")
        }
        guard let issuer = workloadIssuers.first(where: { $0.routes(issuer: routing.issuer, subject: routing.subject) })
        else { throw .wrongIssuer("no trusted issuer vouches for this workload assertion") }
        guard let keys = keySets.withLock({ $0[issuer.name] }) else {
            throw .unknownKey("the keys of \(issuer.name) are not loaded")
        }
        let claims = try issuer.verifier.signedClaims(token, keys: keys)
        let assertion: VerifiedAssertion
        do {
            assertion = try issuer.verifier.check(claims, now: now)
        } catch {
            if let signedRefusal, let subject = claims["sub"]?.stringValue,
                let id = try? issuer.workloadID(
                    for: VerifiedAssertion(subject: subject, issuer: nil, expiresAt: now, claims: claims)
                ),
                firstRefusal(of: token)
            {
                signedRefusal(id)
            }
            throw error
        }
        let identity = WorkloadIdentity(id: try issuer.workloadID(for: assertion), attestation: issuer.attestation)
        cache.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[token] = Cached(identity: identity, expiresAt: assertion.expiresAt)
        }
        return identity
    }

    /// Whether this signed assertion is refused for the first time (remembered until 16,384 are held, then all
    /// forgotten at once). A signature covers the exact text, so one assertion has one text.
    private func firstRefusal(of token: String) -> Bool {
        let digest = SHA256.hash(data: Array(token.utf8))
        return refusedSigned.withLock { seen in
            if seen.count >= Self.cacheCapacity { seen.removeAll(keepingCapacity: true) }
            return seen.insert(digest).inserted
        }
    }

    /// The keys of a transmitter, when loaded.
    func keys(of issuer: IdentityIssuer) -> IdentityKeySet? { keySets.withLock { $0[issuer.name] } }

    /// Verifies a user assertion (an ID token) and returns its claims for the policy.
    public func verifyUser(_ token: String, now: Date) throws(VerificationError) -> UserClaims {
        guard let routing = AssertionVerifier.unverifiedRouting(token) else {
            throw .malformed("the user assertion is not a JWT")
        }
        guard let issuer = userIssuers.first(where: { $0.routes(issuer: routing.issuer, subject: routing.subject) })
        else { throw .wrongIssuer("no trusted identity provider issued this user assertion") }
        guard let keys = keySets.withLock({ $0[issuer.name] }) else {
            throw .unknownKey("the keys of \(issuer.name) are not loaded")
        }
        let assertion = try issuer.verifier.verify(token, keys: keys, now: now)
        return UserClaims(claims: assertion.claims)
    }
}
