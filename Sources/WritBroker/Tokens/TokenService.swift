import Foundation
import Logging
public import WritPolicy
public import WritToken
import WritVerifier

/// The token verbs: issue an access token for an open task and one audience (RFC 8693), check one of the
/// broker's own tokens, introspect (RFC 7662).
public final class TokenService: Sendable {
    let context: BrokerContext
    let store: any TokenStore
    let tasks: TaskService
    let keys: KeyService
    let identities: IdentityRegistry
    let feed: RevocationFeed
    let statusLists: StatusListService
    let proofReplays = DPoPReplayCache(capacity: 250_000, perKeyCapacity: 20_000)
    /// The DPoP nonces handed out.
    public let dpopNonces: DPoPNonces

    init(
        context: BrokerContext,
        store: any TokenStore,
        tasks: TaskService,
        keys: KeyService,
        identities: IdentityRegistry,
        feed: RevocationFeed,
        statusLists: StatusListService
    ) {
        self.context = context
        self.statusLists = statusLists
        self.dpopNonces = DPoPNonces(secret: context.settings.dpopNonceSecret)
        self.store = store
        self.tasks = tasks
        self.keys = keys
        self.identities = identities
        self.feed = feed
    }

    /// How old (and how far in the future) a DPoP proof at the token endpoint may be: clients make a fresh
    /// proof for each token request.
    public static let proofWindow = DPoPProof.TimeWindow(maximumAge: 30, maximumFutureSkew: 5)

    /// Issues an access token for an open task of `caller` (authenticated by the token endpoint) and one
    /// audience, or for an implicit task made for this one token. The token carries the task's grant entries
    /// for that audience, as the policy in force grants them now (or the subset the request asks for); lives at
    /// most the default lifetime, the policy's ceiling and the task's remaining time; is bound to the DPoP key
    /// when a proof is sent, else to the client certificate of a mutual-TLS request (RFC 8705); and is
    /// recorded, with its audit entry, before it is returned.
    public func issue(
        _ request: TokenRequest,
        by caller: WorkloadIdentity,
        dpopProof: String?,
        certificate: PresentedSVID? = nil
    ) async throws(BrokerError) -> IssuedAccessToken {
        let now = context.clock.now
        let requested = try requestedDetails(request)
        guard request.taskID == nil, let requested else {
            try context.admit(caller.id)
            let task = try await openTask(request, of: caller, now: now)
            var details = try await grantedDetails(for: task, audience: request.audience, now: now)
            if let requested {
                details.entries = try narrow(details.entries, to: requested, byScope: request.requested.isScope)
            }
            let binding = try bind(dpopProof, certificate: certificate, caller: caller, task: details.grant, now: now)
            return try await issue(request, for: task, details: details, binding: binding, now: now)
        }
        // An implicit task exists for its one token: the proof (and its nonce) is checked before the task is
        // made, and the task is aborted if no token comes of it, so a refused request leaves no open task.
        let proofBinding = try dpopProof.map { proof throws(BrokerError) in
            try bindToProof(proof, overMutualTLS: certificate != nil, by: caller.id, now: now)
        }
        // Creating the task admits the caller under its rate limit, once for the whole request.
        let bound = proofBinding != nil || certificate.map { $0.identity.id == caller.id } == true
        let task = try await openImplicitTask(request, details: requested, bound: bound, by: caller)
        do throws(BrokerError) {
            let details = try await grantedDetails(for: task, audience: request.audience, now: now)
            let binding: TokenBinding
            if let proofBinding {
                binding = proofBinding
            } else {
                binding = try bind(nil, certificate: certificate, caller: caller, task: details.grant, now: now)
            }
            return try await issue(request, for: task, details: details, binding: binding, now: now)
        } catch {
            _ = try? await tasks.close(task.id, .abort, actor: caller.id.description, reason: "no token was issued")
            throw error
        }
    }

    /// Mints, signs and records the token for a task whose grant and binding are settled.
    func issue(
        _ request: TokenRequest,
        for task: BrokerTask,
        details: (grant: Grant, entries: [AuthorizationDetail]),
        binding: TokenBinding,
        now: Date
    ) async throws(BrokerError) -> IssuedAccessToken {
        // One key for the token and its status list, even if a rotation lands meanwhile.
        let key = keys.current.active
        let (status, slot) = try await statusLists.allocate(keyID: key.id)
        var claims = try mint(task, audience: request.audience, details: details, binding: binding, now: now)
        claims.status = status
        let token = try sign(claims, with: key)
        let record = try await record(claims, slot: slot, task: task, binding: binding, now: now)
        let scope: String? =
            if case .scope = request.requested {
                context.policies.audiences[request.audience]?.scope(for: details.entries)
            } else { nil }
        return IssuedAccessToken(
            token: token,
            tokenType: binding.tokenType,
            expiresIn: Int(claims.expiresAt.timeIntervalSince(now).rounded(FloatingPointRoundingRule.down)),
            record: record,
            authorizationDetails: details.entries,
            scope: scope
        )
    }

    /// The caller's task, open and before its deadline, attested as it was granted, for the user the request
    /// names (when it names one).
    func openTask(
        _ request: TokenRequest,
        of caller: WorkloadIdentity,
        now: Date
    ) async throws(BrokerError) -> BrokerTask {
        let taskID = request.taskID ?? ""
        guard let task = try await tasks.fetch(id: taskID), task.workload == caller.id else {
            context.metrics.denied(BrokerError.Code.invalidGrant.rawValue)
            throw BrokerError(.invalidGrant, "no task \(taskID.prefix(64)) for this workload")
        }
        guard !task.implicit else {
            throw BrokerError(.invalidGrant, "an implicit task gives one token: ask for a new token without task_id")
        }
        guard task.state == .open, !task.isDue(at: now) else {
            context.metrics.denied(BrokerError.Code.invalidGrant.rawValue)
            throw BrokerError(
                .invalidGrant,
                "the task is \(task.state == .open ? "past its deadline" : task.state.rawValue)"
            )
        }
        guard caller.attestation == task.attestation else {
            throw BrokerError(.invalidGrant, "the task was granted to a \(task.attestation.rawValue) identity")
        }
        if let assertion = request.userAssertion {
            let user: UserClaims
            do {
                user = try identities.verifyUser(assertion, now: now)
            } catch {
                throw BrokerError(.invalidRequest, "subject_token: \(error.description)")
            }
            guard let subject = user.subject, subject == task.user?.subject else {
                throw BrokerError(.invalidGrant, "the user assertion does not name the task's user")
            }
        }
        return task
    }

    /// The grant in force now and its entries for the audience (continuous verification: the policy in force
    /// decides, not the one the task was opened under).
    func grantedDetails(
        for task: BrokerTask,
        audience: String,
        now: Date
    ) async throws(BrokerError) -> (grant: Grant, entries: [AuthorizationDetail]) {
        let grant = try await tasks.currentGrant(for: task, now: now)
        let entries = grant.authorizationDetails.filter { detail in
            detail.locations.contains { bytesEqual($0, audience) }
        }
        guard !entries.isEmpty else {
            context.metrics.denied(BrokerError.Code.invalidTarget.rawValue)
            throw BrokerError(.invalidTarget, "the task's grant names no resource at \(audience.prefix(256))")
        }
        return (grant, entries)
    }

    /// The claims of the new token, refused when a revocation in the view would cover them at birth.
    func mint(
        _ task: BrokerTask,
        audience: String,
        details: (grant: Grant, entries: [AuthorizationDetail]),
        binding: TokenBinding,
        now: Date
    ) throws(BrokerError) -> AccessTokenClaims {
        let settings = context.settings
        let lifetime = min(settings.defaultTokenLifetime, details.grant.tokenLifetime, settings.maximumTokenLifetime)
        let expiresAt = min(now.addingTimeInterval(min(lifetime, details.grant.taskDuration)), task.deadline)
        let claims = AccessTokenClaims(
            issuer: settings.issuer,
            subject: task.tokenSubject,
            audience: audience,
            expiresAt: expiresAt.wholeSeconds,
            issuedAt: now,
            tokenID: Identifiers.token(now: now),
            clientID: task.workload,
            actorChain: task.actors,
            taskID: task.id,
            purpose: task.purpose,
            authorizationDetails: details.entries,
            confirmation: binding.confirmation
        )
        guard claims.expiresAt > claims.issuedAt else {
            throw BrokerError(.invalidGrant, "the task has less than a second left")
        }
        if let entry = try feed.covers(claims, now: now) {
            context.metrics.denied(BrokerError.Code.revoked.rawValue)
            // RFC 6749 §5.2: the grant (the task, for this workload or user) is no longer valid.
            throw BrokerError(.invalidGrant, feed.refusal(of: "new tokens", by: entry))
        }
        return claims
    }

    /// The token, signed with the active key.
    func sign(_ claims: AccessTokenClaims, with key: SigningKey) throws(BrokerError) -> String {
        do {
            return try AccessToken.sign(claims, with: key)
        } catch {
            context.logger.error("signing failed", metadata: ["error": "\(error.code)"])
            throw BrokerError(.internalError, "the token could not be signed")
        }
    }

    /// Records the token with its proof and audit entry in one commit, and returns the record; refused if the task closed meanwhile or
    /// the proof was used before (the memory caught replays to this process; the store catches them after a
    /// restart, or at another broker on the same store).
    func record(
        _ claims: AccessTokenClaims,
        slot: StatusSlot,
        task: BrokerTask,
        binding: TokenBinding,
        now: Date
    ) async throws(BrokerError) -> IssuedToken {
        let record = IssuedToken(claims, binding: binding, status: slot)
        let event = AuditEvent(
            "token.issued",
            actor: record.workload,
            subject: record.id,
            detail: .object([
                "task": .string(task.id), "aud": .string(claims.audience),
                "exp": .integer(record.expiresAt.numericDate), "binding": .string(binding.kind),
            ])
        )
        let proof = binding.proof
        let outcome = try await context.store("record token") {
            try await store.insert(record, proof: proof, audit: event, at: now)
        }
        switch outcome {
        case .recorded:
            context.metrics.tokenIssued(binding: binding.kind)
            return record
        case .taskClosed: throw BrokerError(.invalidGrant, "the task closed meanwhile")
        case .proofReplayed:
            throw BrokerError(.invalidDPoPProof, "DPoP: proof_replayed: this DPoP proof was already used")
        }
    }
}
