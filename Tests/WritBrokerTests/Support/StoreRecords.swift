import Foundation
import Synchronization
import WritBroker
import WritPolicy
import WritToken

/// Records for the store conformance suite, built through the broker's public initialisers only. Times are whole
/// seconds, the precision every store keeps.
enum StoreRecords {
    /// The suite's clock: stores take every time as an argument, so one fixed instant serves every test.
    static let now = Date(timeIntervalSince1970: 1_900_000_000)
    static let git = "https://git.example.org"
    static let docs = "https://docs.example.org"

    static let coder = spiffe("agents/coding-agent")
    static let orchestrator = spiffe("agents/research-orchestrator")
    static let summarizer = spiffe("agents/summarizer")
    static let assistant = spiffe("agents/retrieval-assistant")

    static func spiffe(_ path: String) -> SPIFFEID {
        // The paths above are valid; a typo in a new one should stop the suite loudly.
        do { return try SPIFFEID("spiffe://example.org/\(path)") } catch { fatalError("bad test SPIFFE ID \(path)") }
    }

    /// `seconds` after ``now``.
    static func at(_ seconds: TimeInterval) -> Date { now.addingTimeInterval(seconds) }

    /// A new open task as the task service would build it: a sub-task under `parent`, acting as `workload`,
    /// created (delegated) by the parent's workload, for the parent's user unless `user` is given.
    static func task(
        _ id: String,
        workload: SPIFFEID,
        user: String? = nil,
        parent: BrokerTask? = nil,
        at created: Date = now,
        duration: TimeInterval = 600,
        heartbeat: Int64? = nil,
        audience: String = git
    ) throws -> BrokerTask {
        var members: [String: JSONValue] = [
            "type": .string("review"),
            "purpose": .string("review pull request \(id)"),
            "authorization_details": .array([
                .object([
                    "type": .string("repository"),
                    "actions": .array([.string("read"), .string("comment")]),
                    "locations": .array([.string(audience)]),
                    "identifier": .string("example/\(id)"),
                    "datatypes": .array([.string("source")]),
                    "branch": .string("main"),
                ])
            ]),
        ]
        if let heartbeat { members["heartbeat_interval"] = .integer(heartbeat) }
        let descriptor = try TaskDescriptor(json: .object(members))
        let grant = Grant(
            authorizationDetails: descriptor.authorizationDetails,
            taskDuration: duration,
            tokenLifetime: 300,
            delegationDepth: 2,
            bearerTokensAllowed: false
        )
        let claims: [String: JSONValue]? = user.map {
            ["sub": .string($0), "email": .string("\($0)@example.org"), "groups": .array([.string("eng")])]
        }
        return BrokerTask(
            opening: descriptor,
            id: id,
            acting: WorkloadIdentity(id: workload, attestation: .jwtSVID),
            createdBy: parent?.workload ?? workload,
            // A sub-task acts for its parent's user, as the task service passes it.
            user: claims.map { UserClaims(claims: $0) } ?? parent?.user,
            grant: grant,
            parent: parent,
            now: created
        )
    }

    /// The audit entry a task's creation is recorded with.
    static func creationEvent(_ task: BrokerTask) -> AuditEvent {
        AuditEvent("task.created", actor: task.createdBy.description, subject: task.id)
    }

    /// Records a task with its creation event and nothing to do while committing.
    @discardableResult
    static func insert(_ task: BrokerTask, into stores: BrokerStores, limit: Int = 100) async throws -> TaskInsertion {
        try await stores.tasks.insert(task, openTaskLimit: limit, audit: creationEvent(task), whileCommitting: { _ in })
    }

    /// Records tasks that must be recorded.
    static func insert(_ tasks: [BrokerTask], into stores: BrokerStores) async throws {
        for task in tasks {
            let insertion = try await insert(task, into: stores)
            guard insertion == .inserted else { throw Refused(what: "task \(task.id): \(insertion)") }
        }
    }

    /// Closes a task that must be open, keeping its feed entry a minute at least.
    @discardableResult
    static func close(
        _ id: String,
        _ event: TaskEvent,
        at date: Date,
        in stores: BrokerStores
    ) async throws
        -> TaskClosure
    {
        let closure = try await stores.tasks.close(id, event, actor: "t", reason: nil, at: date, minimumRetention: 60)
        guard let closure else { throw Refused(what: "closing task \(id)") }
        return closure
    }

    /// A token of a task, issued at `issued` for `lifetime` seconds.
    static func token(
        _ id: String,
        of task: BrokerTask,
        issued: Date = now,
        lifetime: TimeInterval = 300,
        audience: String = git
    ) -> IssuedToken {
        IssuedToken(
            id: id,
            taskID: task.id,
            workload: task.workload.description,
            subject: task.tokenSubject,
            audience: audience,
            issuedAt: issued,
            expiresAt: issued.addingTimeInterval(lifetime),
            binding: "dpop:\(id)-key"
        )
    }

    /// The claims a token's record stands for, as a verifier would read them.
    static func claims(of token: IssuedToken, in task: BrokerTask) -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: "https://broker.test",
            subject: token.subject,
            audience: token.audience,
            expiresAt: token.expiresAt,
            issuedAt: token.issuedAt,
            tokenID: token.id,
            clientID: task.workload,
            actorChain: task.actors,
            taskID: task.id,
            authorizationDetails: task.grant.authorizationDetails
        )
    }

    /// The audit entry a token's issuance is recorded with.
    static func issuanceEvent(_ token: IssuedToken) -> AuditEvent {
        AuditEvent(
            "token.issued",
            actor: token.workload,
            subject: token.id,
            detail: .object(["aud": .string(token.audience)])
        )
    }

    /// Records a token with its issuance event at its issue time.
    @discardableResult
    static func record(
        _ token: IssuedToken,
        into stores: BrokerStores,
        proof: UsedProof? = nil
    ) async throws
        -> TokenRecording
    {
        try await stores.tokens.insert(token, proof: proof, audit: issuanceEvent(token), at: token.issuedAt)
    }

    /// Records tokens that must be recorded.
    static func record(_ tokens: [IssuedToken], into stores: BrokerStores) async throws {
        for token in tokens {
            let recording = try await record(token, into: stores)
            guard recording == .recorded else { throw Refused(what: "token \(token.id): \(recording)") }
        }
    }

    /// The whole audit log as the events it holds, oldest first.
    static func auditEvents(_ stores: BrokerStores) async throws -> [AuditEvent] {
        try await stores.audit.list(after: 0, limit: 100_000).map {
            AuditEvent($0.event, actor: $0.actor, subject: $0.subject, detail: $0.detail)
        }
    }

    /// The whole feed, oldest first.
    static func feed(_ stores: BrokerStores) async throws -> [Revocation] {
        try await stores.revocations.list(after: 0, limit: 100_000)
    }

    /// A store refused something a test needs recorded.
    struct Refused: Error, CustomStringConvertible {
        let what: String
        var description: String { "the store refused \(what)" }
    }

    /// What a callback saw, in order; safe to share with the store's writer.
    final class Calls: Sendable {
        private let seen = Mutex<[String]>([])
        func record(_ value: String) { seen.withLock { $0.append(value) } }
        var all: [String] { seen.withLock { $0 } }
    }
}
