public import Foundation
import Logging
public import WritToken

/// The broker as a Shared Signals receiver (RFC 8935 push, SSF 1.0, CAEP 1.0, RISC): configured transmitters (an
/// identity provider, an EDR) post Security Event Tokens, and a `session-revoked` or `account-disabled` event
/// revokes the user or workload it names, once per event (`jti`), in the commit that remembers the event.
public struct SignalReceiver: Sendable {
    /// RISC `account-disabled`.
    public static let accountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
    /// The events that revoke their subject.
    public static let revokingEvents: Set<String> = [SignalService.sessionRevoked, accountDisabled]
    /// The largest event accepted, in bytes.
    public static let maximumLength = 64 * 1024
    /// Events older than this (by `iat`) are refused; each event's `jti` is remembered this long.
    public static let maximumAge: TimeInterval = 86_400
    /// Clock skew allowed on `iat`.
    public static let clockSkew: TimeInterval = 60

    /// Why an event is refused: an RFC 8935 §2.3 error code and a description.
    public struct Refusal: Error, Sendable, Hashable {
        /// `invalid_request`, `invalid_key`, `invalid_issuer` or `invalid_audience`.
        public let code: String
        /// What is wrong.
        public let description: String
    }

    /// What became of an accepted event.
    public enum Outcome: Sendable, Hashable {
        /// The user or workload is revoked.
        case revoked(RevocationSubject)
        /// The event was processed before; nothing was done again.
        case replayed
        /// A valid event the broker does not act on (another type, or a subject it cannot map), audited.
        case ignored(String)
    }

    let context: BrokerContext
    let identities: IdentityRegistry
    let revocations: RevocationService
    let audit: any AuditStore

    /// Verifies an event and acts on it.
    public func receive(_ token: String) async throws -> Outcome {
        let now = context.clock.now
        let (transmitter, claims, jti) = try verify(token, now: now)
        let issuer = transmitter.verifier.issuer ?? transmitter.name
        let actor = "signals:\(issuer)"
        guard let events = claims["events"]?.objectValue, !events.isEmpty else {
            throw Refusal(code: "invalid_request", description: "the event has no events claim")
        }
        guard let (type, event) = events.first(where: { Self.revokingEvents.contains($0.key) }) else {
            return try await ignore(jti, actor: actor, "no event type the broker acts on: \(events.keys.sorted())")
        }
        let subjectClaim = claims["sub_id"] ?? event.objectValue?["subject"]
        guard let subject = Self.subject(subjectClaim) else {
            return try await ignore(jti, actor: actor, "a subject the broker cannot map to a user or workload")
        }
        if let refusal = scope(subject, of: transmitter) { return try await ignore(jti, actor: actor, refusal) }
        let once = UsedProof(
            keyThumbprint: "signals:" + issuer,
            id: jti,
            expiresAt: now.addingTimeInterval(Self.maximumAge + Self.clockSkew)
        )
        let outcome = try await revocations.revoke(subject.0, by: "\(actor) \(type) \(jti.prefix(64))", once: once)
        guard outcome != nil else { return .replayed }
        context.logger.notice(
            "revoked on a received security event",
            metadata: ["transmitter": "\(issuer)", "event": "\(type)", "jti": "\(jti.prefix(64))"]
        )
        return .revoked(subject.0)
    }

    private func ignore(_ jti: String, actor: String, _ reason: String) async throws -> Outcome {
        try await context.audit(
            AuditEvent("signal.ignored", actor: actor, subject: jti, detail: .object(["reason": .string(reason)])),
            in: audit
        )
        return .ignored(reason)
    }

    /// Why a transmitter may not revoke this subject, or nil when it may: a workload only in the trust domain
    /// configured for the transmitter (none configured: no workload), a user named by `iss_sub` only when `iss`
    /// is one of the broker's user identity providers.
    func scope(_ subject: (RevocationSubject, userIssuer: String?), of transmitter: IdentityIssuer) -> String? {
        switch subject.0 {
        case .workload(let id):
            guard let domain = transmitter.trustDomain else {
                return "the transmitter has no trust_domain configured, so it revokes no workload"
            }
            return id.trustDomain == domain ? nil : "the workload is outside the transmitter's trust domain \(domain)"
        case .user:
            guard let issuer = subject.userIssuer else { return nil }
            return identities.userIssuers.contains { $0.verifier.issuer == issuer }
                ? nil : "the user's iss is none of the broker's user identity providers"
        default:
            return "not a user or workload"
        }
    }

    /// The user or workload a subject identifier names: a SPIFFE ID as a `uri`, or a user as `opaque` or
    /// `iss_sub`, alone or as the `user` of a `complex` subject (SSF 1.0 §3, RFC 9493).
    static func subject(_ value: JSONValue?) -> (RevocationSubject, userIssuer: String?)? {
        guard let members = value?.objectValue, let format = members["format"]?.stringValue else { return nil }
        switch format {
        case "uri":
            guard let uri = members["uri"]?.stringValue, uri.hasPrefix("spiffe://"), let id = try? SPIFFEID(uri) else {
                return nil
            }
            return (.workload(id), nil)
        case "opaque":
            guard let id = members["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 1024 else { return nil }
            return (.user(id), nil)
        case "iss_sub":
            guard let sub = members["sub"]?.stringValue, !sub.isEmpty, sub.utf8.count <= 1024,
                let issuer = members["iss"]?.stringValue
            else { return nil }
            return (.user(sub), issuer)
        case "complex":
            return subject(members["user"])
        default:
            return nil
        }
    }

    /// Checks an event as RFC 8417 and SSF 1.0 ask: compact JWS of at most 64 KiB, `typ: secevent+jwt`, no
    /// key in the header, an `iss` of a configured transmitter, its key by `kid`, a valid signature, `aud`
    /// naming the broker, a `jti`, and an `iat` neither in the future nor older than a day.
    private func verify(
        _ token: String,
        now: Date
    ) throws(Refusal) -> (IdentityIssuer, [String: JSONValue], String) {
        let refuse = { (code: String, text: String) in Refusal(code: code, description: text) }
        guard let jws = try? CompactJWS(token, maximumLength: Self.maximumLength), let header = try? jws.header(),
            let claims = try? jws.payload().objectValue
        else { throw refuse("invalid_request", "the body is not a compact JWS of at most 64 KiB with a JSON payload") }
        let type = header["typ"]?.stringValue?.lowercased()
        guard type == "secevent+jwt" || type == "application/secevent+jwt" else {
            throw refuse("invalid_request", "typ must be secevent+jwt")
        }
        for name in ["jwk", "jku", "x5u", "x5c", "crit"] where header[name] != nil {
            throw refuse("invalid_request", "the header carries \(name), which is refused")
        }
        guard let issuer = claims["iss"]?.stringValue,
            let transmitter = identities.signalTransmitters.first(where: { $0.verifier.issuer == issuer })
        else { throw refuse("invalid_issuer", "no configured transmitter has this iss") }
        guard let keys = identities.keys(of: transmitter) else {
            throw refuse("invalid_key", "the transmitter's keys are not loaded yet")
        }
        guard let alg = header["alg"]?.stringValue, let kid = header["kid"]?.stringValue, let key = keys.keys[kid],
            key.accepts(alg)
        else { throw refuse("invalid_key", "no key of the transmitter has this kid and alg") }
        guard let signature = Base64URL.decode(bytes: jws.signatureSegment),
            key.isValidSignature(signature, for: jws.signingInput)
        else { throw refuse("invalid_key", "the signature does not verify") }
        let audiences: [String] =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        guard audiences.contains(transmitter.verifier.audience) else {
            throw refuse("invalid_audience", "aud does not name \(transmitter.verifier.audience)")
        }
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty, jti.utf8.count <= 256 else {
            throw refuse("invalid_request", "jti is required (at most 256 bytes)")
        }
        guard let iat = claims["iat"]?.integerValue else { throw refuse("invalid_request", "iat is required") }
        let issuedAt = Date(timeIntervalSince1970: TimeInterval(iat))
        guard issuedAt <= now.addingTimeInterval(Self.clockSkew) else {
            throw refuse("invalid_request", "iat is in the future")
        }
        guard issuedAt > now.addingTimeInterval(-Self.maximumAge) else {
            throw refuse("invalid_request", "the event is older than a day")
        }
        return (transmitter, claims, jti)
    }
}
