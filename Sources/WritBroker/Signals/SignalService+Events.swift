public import Foundation
import Logging
import Synchronization
public import WritAPI
import WritToken

extension SignalService {
    // MARK: - Events

    /// The event a feed entry makes for a receiver, or nil when it concerns none of the receiver's audiences
    /// (task and token entries for tokens issued elsewhere) or has no event (key, issued-before and lift
    /// entries; docs/signals.md).
    nonisolated func event(
        for entry: Revocation,
        on stream: SignalStream,
        audiences: [String]
    ) async throws(BrokerError) -> (jti: String, token: String)? {
        let issuer = context.settings.issuer
        let subject: JSONValue
        var task: String?
        var reason: String
        var initiator = "admin"
        switch entry.subject {
        case .task(let id):
            let issuedTo = try await self.audiences(ofClosedTask: id, entry: entry.sequence)
            guard issuedTo.contains(where: audiences.contains) else { return nil }
            subject = .object([
                "format": .string("complex"), "session": .object(["format": .string("opaque"), "id": .string(id)]),
            ])
            task = id
            reason = "the task ended; every token of it is revoked"
            initiator = "system"
        case .token(let id):
            let record = try await db("read token") { try await tokens.fetch(id: id) }
            guard let record, audiences.contains(record.audience) else { return nil }
            subject = .object(["format": .string("jwt_id"), "iss": .string(issuer), "jti": .string(id)])
            task = record.taskID
            reason = "the token was revoked"
        case .workload(let workload):
            subject = .object([
                "format": .string("complex"),
                "user": .object(["format": .string("uri"), "uri": .string(workload.description)]),
            ])
            reason = "the workload was revoked; every token it holds or acts in is revoked"
        case .user(let user):
            subject = .object([
                "format": .string("complex"), "user": .object(["format": .string("opaque"), "id": .string(user)]),
            ])
            reason = "the user was revoked; every token for the user is revoked"
        case .issuedBefore, .key, .lift:
            return nil
        }
        guard stream.eventsRequested.contains(Self.sessionRevoked) else { return nil }
        let jti = stream.id + "." + String(entry.sequence)
        var claims: [String: JSONValue] = [
            "event_timestamp": .integer(entry.revokedAt.numericDate),
            "initiating_entity": .string(initiator),
            "reason_admin": .object(["en": .string(reason)]),
        ]
        if initiator == "system" { claims["reason_user"] = .object(["en": .string(reason)]) }
        let token = try sign(
            jti: jti,
            stream: stream,
            subject: subject,
            type: Self.sessionRevoked,
            event: .object(claims),
            at: entry.revokedAt,
            task: task
        )
        return (jti, token)
    }

    /// A Security Event Token: `typ: secevent+jwt`, `iss`, `aud` (the receiver), `iat`, `jti`, `sub_id`, one
    /// event, and `txn` (the task) where there is one; never `sub` or `exp` (SSF 1.0 §4).
    nonisolated func sign(
        jti: String,
        stream: SignalStream,
        subject: JSONValue,
        type: String,
        event: JSONValue,
        at date: Date,
        task: String? = nil
    ) throws(BrokerError) -> String {
        let key = keys.current.active
        var payload: [String: JSONValue] = [
            "iss": .string(context.settings.issuer),
            "aud": .string(stream.receiver),
            "iat": .integer(date.numericDate),
            "jti": .string(jti),
            "sub_id": subject,
            "events": .object([type: event]),
        ]
        if let task { payload["txn"] = .string(task) }
        let header: [String: JSONValue] = [
            "alg": .string(key.algorithm.rawValue), "kid": .string(key.id), "typ": .string("secevent+jwt"),
        ]
        do {
            return try JWSSigner.sign(header: header, payload: .object(payload), with: key.privateKey)
        } catch {
            context.logger.error("signing a security event failed", metadata: ["error": "\(error.code)"])
            throw BrokerError(.internalError, "the event could not be signed")
        }
    }

    /// The audiences a closed task's tokens went to, remembered by feed entry: a task gets no token once closed,
    /// so the answer never changes, and every stream reading the entry asks it.
    nonisolated func audiences(ofClosedTask id: String, entry: UInt64) async throws(BrokerError) -> [String] {
        if let known = taskAudiences.withLock({ $0.current[entry] ?? $0.previous[entry] }) { return known }
        let found = try await db("read task audiences") { try await tokens.audiences(taskID: id) }
        taskAudiences.withLock { cache in
            // Two generations: when the newer is full it becomes the older, so recent entries stay.
            if cache.current.count >= 4096 { cache = (current: [:], previous: cache.current) }
            cache.current[entry] = found
        }
        return found
    }

    /// A store call, off the actor (stores are their own synchronisation).
    nonisolated func db<T: Sendable>(
        _ what: String,
        _ body: @Sendable () async throws -> T
    ) async throws(BrokerError) -> T {
        try await context.store(what, body)
    }

    func save(_ stream: SignalStream) async throws(BrokerError) {
        let saved = try await db("update signal stream") { try await store.update(stream) }
        guard saved else { throw BrokerError(.notFound, "no such stream") }
    }
}
