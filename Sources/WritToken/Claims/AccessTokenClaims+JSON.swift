import Foundation

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
        if let status { members["status"] = status.json }
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

    /// Reads claims from a parsed payload, by the same rules as ``init(jsonBytes:)`` (the value is written out
    /// and read back, so there is one definition of a well-formed claim set). Required claims must be present
    /// with their types; unknown claims are ignored, as RFC 7519 asks.
    public init(json: JSONValue) throws(VerificationError) {
        try self.init(jsonBytes: JSONWriter.bytes(json))
    }

    /// Reads claims straight from payload bytes in one pass: strict JSON (no duplicate names at any depth,
    /// valid UTF-8, depth at most 16), then every claim's type, without building a tree of the payload first.
    public init(jsonBytes: [UInt8]) throws(VerificationError) {
        let result = jsonBytes.withUnsafeBufferPointer { buffer -> Result<AccessTokenClaims, VerificationError> in
            do throws(VerificationError) {
                return .success(try ClaimsDecoder.decode(buffer))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}
