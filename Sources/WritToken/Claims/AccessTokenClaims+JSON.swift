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
        func string(_ name: String) throws(VerificationError) -> String {
            guard let value = members[name]?.stringValue, !value.isEmpty else {
                throw .malformed("\(name) must be a non-empty string")
            }
            return value
        }
        func date(_ name: String) throws(VerificationError) -> Date? {
            guard let value = members[name] else { return nil }
            guard let seconds = value.integerValue, seconds >= 0 else {
                throw .malformed("\(name) must be a non-negative integer NumericDate")
            }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        self.issuer = try string("iss")
        self.subject = try string("sub")
        switch members["aud"] {
        case .string(let audience) where !audience.isEmpty:
            self.audience = audience
        case .array(let audiences) where audiences.count == 1:
            guard let audience = audiences[0].stringValue, !audience.isEmpty else {
                throw .malformed("aud must be a non-empty string")
            }
            self.audience = audience
        case .array(let audiences) where audiences.count > 1:
            throw .wrongAudience("the token names \(audiences.count) audiences; this profile allows exactly one")
        default:
            throw .malformed("aud must be a non-empty string")
        }
        guard let expiresAt = try date("exp") else { throw .malformed("exp is required") }
        guard let issuedAt = try date("iat") else { throw .malformed("iat is required") }
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notBefore = try date("nbf")
        self.tokenID = try string("jti")
        let clientText = try string("client_id")
        do {
            self.clientID = try SPIFFEID(clientText)
        } catch {
            throw .malformed("client_id is not a SPIFFE ID: \(error.reason)")
        }
        self.taskID = try string("txn")
        if members["purp"] != nil {
            self.purpose = try string("purp")
        } else {
            self.purpose = nil
        }
        guard let details = members["authorization_details"]?.arrayValue else {
            throw .malformed("authorization_details must be an array")
        }
        var parsedDetails: [AuthorizationDetail] = []
        parsedDetails.reserveCapacity(details.count)
        for detail in details { parsedDetails.append(try AuthorizationDetail(json: detail)) }
        self.authorizationDetails = parsedDetails
        if let scope = members["scope"], scope.stringValue == nil {
            throw .malformed("scope must be a string")
        }
        self.confirmation = try members["cnf"].map { (value: JSONValue) throws(VerificationError) in
            try Confirmation(json: value)
        }
        var chain: [SPIFFEID] = []
        var next = members["act"]
        while let actor = next {
            guard chain.count < Self.maximumActorDepth else { throw .malformed("act is nested too deeply") }
            guard let entry = actor.objectValue, let sub = entry["sub"]?.stringValue,
                let workload = try? SPIFFEID(sub)
            else { throw .malformed("every act entry needs a SPIFFE ID sub") }
            chain.append(workload)
            next = entry["act"]
        }
        self.actorChain = chain
    }
}
