public import Foundation

/// A Status List Token in JWT form (draft-ietf-oauth-status-list §5.1): a status list signed by its issuer,
/// `typ: statuslist+jwt`, served as `application/statuslist+jwt`.
public struct StatusListToken: Sendable, Hashable {
    /// The `typ` header and the media type's subtype.
    public static let type = "statuslist+jwt"
    /// The media type the list is served as and asked for.
    public static let mediaType = "application/statuslist+jwt"
    /// The largest Status List Token read, in bytes.
    public static let maximumLength = 4 << 20

    /// `sub`: the URI the list is served at, equal to the `uri` of every reference into it.
    public var uri: String
    /// `iss`: who issued it.
    public var issuer: String
    /// `iat`.
    public var issuedAt: Date
    /// `exp`: after this the list must not be used.
    public var expiresAt: Date
    /// `ttl`: how long, in seconds, a relying party may cache it before fetching again.
    public var timeToLive: Int
    /// `status_list`: the statuses.
    public var list: StatusList

    /// A Status List Token's content.
    public init(
        uri: String,
        issuer: String,
        issuedAt: Date,
        expiresAt: Date,
        timeToLive: Int,
        list: StatusList
    ) {
        self.uri = uri
        self.issuer = issuer
        self.issuedAt = issuedAt.wholeSeconds
        self.expiresAt = expiresAt.wholeSeconds
        self.timeToLive = timeToLive
        self.list = list
    }

    /// The claims: `sub`, `iss`, `iat`, `exp`, `ttl` and `status_list` with `bits` and the compressed `lst`.
    public var json: JSONValue {
        .object([
            "sub": .string(uri),
            "iss": .string(issuer),
            "iat": .integer(issuedAt.numericDate),
            "exp": .integer(expiresAt.numericDate),
            "ttl": .integer(Int64(timeToLive)),
            "status_list": .object([
                "bits": .integer(Int64(list.bits)),
                "lst": .string(Base64URL.encode(list.compressed())),
            ]),
        ])
    }

    /// The signed token: header `alg`, `kid` and `typ: statuslist+jwt`.
    public func signed(with key: SigningKey) throws(KeyError) -> String {
        let header: [String: JSONValue] = [
            "alg": .string(key.algorithm.rawValue), "kid": .string(key.id), "typ": .string(Self.type),
        ]
        return try JWSSigner.sign(header: header, payload: json, with: key.privateKey)
    }

    /// Checks a Status List Token as the draft's §8.3 asks and reads it: `typ: statuslist+jwt`, an accepted
    /// algorithm and a key from `lookup` by `kid`, a valid signature, `sub` equal to `uri` (where the
    /// reference pointed), `iss` equal to `issuer`, `iat` present, `exp` not passed at `now`, and a well-formed
    /// `status_list`.
    public static func verified(
        _ token: String,
        uri: String,
        issuer: String,
        now: Date,
        lookup: (String) -> VerificationKey?
    ) throws(VerificationError) -> StatusListToken {
        let jws = try CompactJWS(token, maximumLength: maximumLength)
        let header = try jws.header()
        let algorithm = try HeaderRules.algorithm(in: header)
        guard HeaderRules.typ(header["typ"], is: type) else { throw .wrongType("typ must be statuslist+jwt") }
        guard let kid = header["kid"]?.stringValue, let key = lookup(kid) else {
            throw .unknownKey("no configured key has the status list's kid")
        }
        guard key.algorithm == algorithm else { throw .unsupportedAlgorithm("the key with this kid is another kind") }
        let signature = try jws.signature(length: algorithm.signatureLength)
        guard key.publicKey.isValidSignature(signature, for: jws.signingInput) else {
            throw .badSignature("the status list's signature does not verify")
        }
        guard let claims = try jws.payload().objectValue else { throw .malformed("the payload must be an object") }
        guard claims["sub"]?.stringValue == uri else { throw .malformed("the status list's sub is not its URI") }
        guard claims["iss"]?.stringValue == issuer else {
            throw .wrongIssuer("the status list's iss is not the issuer")
        }
        guard let issuedAt = claims["iat"]?.integerValue, let expiresAt = claims["exp"]?.integerValue else {
            throw .malformed("the status list needs integer iat and exp")
        }
        guard Double(expiresAt) > now.timeIntervalSince1970 else { throw .expired("the status list has expired") }
        let timeToLive = claims["ttl"]?.integerValue ?? 0
        guard timeToLive >= 0 else { throw .malformed("ttl must be a positive number") }
        guard let members = claims["status_list"]?.objectValue, let bits = members["bits"]?.integerValue,
            let encoded = members["lst"]?.stringValue, let compressed = Base64URL.decode(encoded)
        else { throw .malformed("status_list needs integer bits and base64url lst") }
        return StatusListToken(
            uri: uri,
            issuer: issuer,
            issuedAt: Date(timeIntervalSince1970: TimeInterval(issuedAt)),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)),
            timeToLive: Int(timeToLive),
            list: try StatusList(compressed: [UInt8](compressed), bits: Int(clamping: bits))
        )
    }
}
