public import Foundation

extension AccessTokenClaims {
    /// The deepest RFC 8693 `act` nesting accepted.
    public static let maximumActorDepth = 8

    /// The claims as a JSON object, with `scope` derived.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "iss": .string(issuer),
            "sub": .string(subject),
            "aud": .string(audience),
            "exp": .integer(expiresAt.numericDate),
            "iat": .integer(issuedAt.numericDate),
            "jti": .string(tokenID),
            "client_id": .string(clientID.description),
            "txn": .string(taskID),
            "authorization_details": .array(authorizationDetails.map(\.json)),
            "scope": .string(scope),
        ]
        if let notBefore { members["nbf"] = .integer(notBefore.numericDate) }
        if let purpose { members["purp"] = .string(purpose) }
        if let confirmation { members["cnf"] = confirmation.json }
        // RFC 8693 §4.1: the current actor outermost, earlier actors nested inside.
        var actor: JSONValue?
        for workload in actorChain.reversed() {
            var entry: [String: JSONValue] = ["sub": .string(workload.description)]
            if let inner = actor { entry["act"] = inner }
            actor = .object(entry)
        }
        if let actor { members["act"] = actor }
        return .object(members)
    }

    /// Reads claims from a parsed payload. Required claims must be present with their types; unknown
    /// claims are ignored, as RFC 7519 asks.
    public init(json: JSONValue) throws(VerificationError) {
        guard let members = json.objectValue else { throw .malformed("the payload must be a JSON object") }
        var builder = ClaimsBuilder()
        for (name, value) in members { try builder.accept(name, value) }
        self = try builder.build()
    }

    /// Reads claims straight from payload bytes, member by member, refusing duplicate names.
    public init(jsonBytes: [UInt8]) throws(VerificationError) {
        var builder = ClaimsBuilder()
        do {
            try StrictJSON(maximumDepth: 16).forEachMember(in: jsonBytes) { name, value in
                try builder.accept(name, value)
            }
        } catch let error as VerificationError {
            throw error
        } catch let error as StrictJSON.ParseError {
            throw .malformed("the payload is not strict JSON: \(error.message)")
        } catch {
            throw .malformed("the payload is not strict JSON")
        }
        self = try builder.build()
    }
}

/// Collects claims one member at a time, checking types and refusing duplicates.
private struct ClaimsBuilder {
    var issuer: String?
    var subject: String?
    var audience: String?
    var expiresAt: Date?
    var issuedAt: Date?
    var notBefore: Date?
    var tokenID: String?
    var clientID: SPIFFEID?
    var actorChain: [SPIFFEID] = []
    var taskID: String?
    var purpose: String?
    var details: [AuthorizationDetail]?
    var confirmation: Confirmation?
    var seenKnown: UInt32 = 0
    var seenOther: Set<String> = []

    /// The bit recording that a known claim was seen, or nil for a claim this profile ignores.
    static func bit(for name: String) -> UInt32? {
        switch name {
        case "iss": 1 << 0
        case "sub": 1 << 1
        case "aud": 1 << 2
        case "exp": 1 << 3
        case "iat": 1 << 4
        case "nbf": 1 << 5
        case "jti": 1 << 6
        case "client_id": 1 << 7
        case "txn": 1 << 8
        case "purp": 1 << 9
        case "scope": 1 << 10
        case "cnf": 1 << 11
        case "act": 1 << 12
        case "authorization_details": 1 << 13
        default: nil
        }
    }

    /// Records that a known claim was seen, refusing a second one.
    mutating func once(_ bit: UInt32, _ name: String) throws(VerificationError) {
        guard seenKnown & bit == 0 else { throw .malformed("duplicate member \"\(name)\"") }
        seenKnown |= bit
    }

    mutating func accept(_ name: String, _ value: JSONValue) throws(VerificationError) {
        guard let bit = Self.bit(for: name) else {
            guard seenOther.insert(name).inserted else { throw .malformed("duplicate member \"\(name.prefix(32))\"") }
            return
        }
        try once(bit, name)
        switch name {
        case "iss": issuer = try Self.string(name, value)
        case "sub": subject = try Self.string(name, value)
        case "aud": audience = try Self.audience(value)
        case "exp": expiresAt = try Self.date(name, value)
        case "iat": issuedAt = try Self.date(name, value)
        case "nbf": notBefore = try Self.date(name, value)
        case "jti": tokenID = try Self.string(name, value)
        case "client_id":
            let text = try Self.string(name, value)
            do {
                clientID = try SPIFFEID(text)
            } catch {
                throw .malformed("client_id is not a SPIFFE ID: \(error.reason)")
            }
        case "txn": taskID = try Self.string(name, value)
        case "purp": purpose = try Self.string(name, value)
        case "scope": guard value.stringValue != nil else { throw .malformed("scope must be a string") }
        case "cnf": confirmation = try Confirmation(json: value)
        case "act": actorChain = try Self.actors(value)
        case "authorization_details":
            guard let entries = value.arrayValue else { throw .malformed("authorization_details must be an array") }
            var parsed: [AuthorizationDetail] = []
            parsed.reserveCapacity(entries.count)
            for entry in entries { parsed.append(try AuthorizationDetail(json: entry)) }
            details = parsed
        default: break
        }
    }

    func build() throws(VerificationError) -> AccessTokenClaims {
        guard let issuer else { throw .malformed("iss must be a non-empty string") }
        guard let subject else { throw .malformed("sub must be a non-empty string") }
        guard let audience else { throw .malformed("aud must be a non-empty string") }
        guard let expiresAt else { throw .malformed("exp is required") }
        guard let issuedAt else { throw .malformed("iat is required") }
        guard let tokenID else { throw .malformed("jti must be a non-empty string") }
        guard let clientID else { throw .malformed("client_id must be a non-empty string") }
        guard let taskID else { throw .malformed("txn must be a non-empty string") }
        guard let details else { throw .malformed("authorization_details must be an array") }
        return AccessTokenClaims(
            issuer: issuer,
            subject: subject,
            audience: audience,
            expiresAt: expiresAt,
            issuedAt: issuedAt,
            notBefore: notBefore,
            tokenID: tokenID,
            clientID: clientID,
            actorChain: actorChain,
            taskID: taskID,
            purpose: purpose,
            authorizationDetails: details,
            confirmation: confirmation
        )
    }

    static func string(_ name: String, _ value: JSONValue) throws(VerificationError) -> String {
        guard let text = value.stringValue, !text.isEmpty else {
            throw .malformed("\(name) must be a non-empty string")
        }
        return text
    }

    static func date(_ name: String, _ value: JSONValue) throws(VerificationError) -> Date {
        guard let seconds = value.integerValue, seconds >= 0 else {
            throw .malformed("\(name) must be a non-negative integer NumericDate")
        }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    static func audience(_ value: JSONValue) throws(VerificationError) -> String {
        switch value {
        case .string(let audience) where !audience.isEmpty:
            return audience
        case .array(let audiences) where audiences.count == 1:
            guard let audience = audiences[0].stringValue, !audience.isEmpty else {
                throw .malformed("aud must be a non-empty string")
            }
            return audience
        case .array(let audiences) where audiences.count > 1:
            throw .wrongAudience("the token names \(audiences.count) audiences; this profile allows exactly one")
        default:
            throw .malformed("aud must be a non-empty string")
        }
    }

    static func actors(_ value: JSONValue) throws(VerificationError) -> [SPIFFEID] {
        var chain: [SPIFFEID] = []
        var next: JSONValue? = value
        while let actor = next {
            guard chain.count < AccessTokenClaims.maximumActorDepth else {
                throw .malformed("act is nested too deeply")
            }
            guard let entry = actor.objectValue, let sub = entry["sub"]?.stringValue,
                let workload = try? SPIFFEID(sub)
            else { throw .malformed("every act entry needs a SPIFFE ID sub") }
            chain.append(workload)
            next = entry["act"]
        }
        return chain
    }
}
