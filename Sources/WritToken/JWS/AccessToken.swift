/// Signing and signature-checking of Writ access tokens (RFC 9068 `at+jwt`).
public enum AccessToken {
    /// The `typ` header of every access token.
    public static let type = "at+jwt"
    /// The largest token accepted, in bytes (RFC 8725 asks for limits before parsing).
    public static let maximumLength = 8192
    /// The only header members an access token may carry.
    static let headerMembers: Set<String> = ["alg", "kid", "typ"]

    /// Signs claims with a key: the header is exactly `alg`, `kid` and `typ: at+jwt`.
    public static func sign(_ claims: AccessTokenClaims, with key: SigningKey) throws(KeyError) -> String {
        let header: [String: JSONValue] = [
            "alg": .string(key.algorithm.rawValue), "kid": .string(key.id), "typ": .string(type),
        ]
        return try JWSSigner.sign(header: header, payload: claims.json, with: key.privateKey)
    }

    /// Checks a token's shape, header and signature, in the order of RFC 8725, then decodes its claims.
    ///
    /// The key comes from `lookup` by `kid` and fixes the algorithm; nothing in the token chooses a key or
    /// an algorithm. Claims are decoded only after the signature verifies. Time, issuer and audience are
    /// not checked here.
    public static func decodeVerified(
        _ token: String,
        trail: inout VerificationTrail,
        lookup: (String) -> VerificationKey?
    ) throws(VerificationError) -> AccessTokenClaims {
        try decodeVerified(token[...], trail: &trail, lookup: lookup)
    }

    /// Checks a token's shape, header and signature, then decodes its claims; see the `String` variant.
    public static func decodeVerified(
        _ token: Substring,
        trail: inout VerificationTrail,
        lookup: (String) -> VerificationKey?
    ) throws(VerificationError) -> AccessTokenClaims {
        let jws = try trail.run(.segments) { () throws(VerificationError) in
            try CompactJWS(token, maximumLength: maximumLength)
        }
        let (algorithm, kid) = try checkedHeader(jws, trail: &trail)
        let key = try trail.run(.key) { () throws(VerificationError) in
            guard let key = lookup(kid) else { throw .unknownKey("no configured key has this kid") }
            guard key.algorithm == algorithm else {
                throw .unsupportedAlgorithm(
                    "the key with this kid is \(key.algorithm.rawValue), not \(algorithm.rawValue)"
                )
            }
            return key
        }
        try trail.run(.signature) { () throws(VerificationError) in
            let signature = try jws.signature(length: algorithm.signatureLength)
            guard key.publicKey.isValidSignature(signature, for: jws.signingInput) else {
                throw .badSignature("the signature does not verify")
            }
        }
        let payload = try trail.run(.payload) { () throws(VerificationError) in
            guard let decoded = Base64URL.decode(bytes: jws.payloadSegment) else {
                throw .malformed("the payload is not canonical base64url")
            }
            return decoded
        }
        return try trail.run(.claims) { () throws(VerificationError) in try AccessTokenClaims(jsonBytes: payload) }
    }

    /// Checks the protected header: canonical base64url, strict JSON, an accepted `alg`, only `alg`, `kid` and
    /// `typ`, `typ` of `at+jwt`, and a non-empty `kid`. Headers that passed are remembered by their exact
    /// encoded bytes (a broker signs every token of a key with the same header), so the checks run once per
    /// distinct header.
    static func checkedHeader(
        _ jws: CompactJWS,
        trail: inout VerificationTrail
    ) throws(VerificationError) -> (SignatureAlgorithm, String) {
        let segment = jws.headerSegment
        if let known = HeaderCache.shared.lookup(segment) {
            if trail.isRecording {
                for check in [VerificationTrail.Check.header, .algorithm, .header, .type, .header] {
                    trail.passed(check)
                }
            }
            return known
        }
        let header = try trail.run(.header) { () throws(VerificationError) in try jws.header() }
        let algorithm = try trail.run(.algorithm) { () throws(VerificationError) in
            try HeaderRules.algorithm(in: header)
        }
        try trail.run(.header) { () throws(VerificationError) in
            try HeaderRules.onlyAllowedMembers(header, allowed: headerMembers)
        }
        try trail.run(.type) { () throws(VerificationError) in
            guard HeaderRules.typ(header["typ"], is: type) else {
                throw .wrongType("typ must be at+jwt")
            }
        }
        let kid = try trail.run(.header) { () throws(VerificationError) in
            guard let kid = header["kid"]?.stringValue, !kid.isEmpty else {
                throw .malformed("the header needs a non-empty string kid")
            }
            return kid
        }
        HeaderCache.shared.insert(segment, algorithm: algorithm, kid: kid)
        return (algorithm, kid)
    }

    /// Decodes a token's claims WITHOUT checking its signature, for display and debugging only.
    public static func unverifiedClaims(_ token: String) throws(VerificationError) -> AccessTokenClaims {
        let jws = try CompactJWS(token, maximumLength: maximumLength)
        guard let payload = Base64URL.decode(bytes: jws.payloadSegment) else {
            throw .malformed("the payload is not canonical base64url")
        }
        return try AccessTokenClaims(jsonBytes: payload)
    }
}
