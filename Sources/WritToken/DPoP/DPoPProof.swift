public import Foundation

/// DPoP proofs (RFC 9449): a JWT, signed with the client's key and carrying its public JWK, that ties one
/// HTTP request to that key.
public enum DPoPProof {
    /// The `typ` header of every proof.
    public static let type = "dpop+jwt"
    /// The largest proof accepted, in bytes.
    public static let maximumLength = 4096
    /// The longest `jti` accepted, in bytes.
    public static let maximumIDLength = 256
    /// The one header member of the forbidden kind a proof carries: its public key (never a private one).
    static let keyMember: Set<String> = ["jwk"]

    /// How far from now a proof's `iat` may lie.
    public struct TimeWindow: Sendable, Hashable {
        /// How old a proof may be.
        public var maximumAge: TimeInterval
        /// How far in the future `iat` may lie, for clock skew.
        public var maximumFutureSkew: TimeInterval

        /// A window; by default a proof is good for 60 seconds after it is made and 5 seconds before.
        public init(maximumAge: TimeInterval = 60, maximumFutureSkew: TimeInterval = 5) {
            self.maximumAge = maximumAge
            self.maximumFutureSkew = maximumFutureSkew
        }
    }

    /// A proof whose signature, header and claims all checked out.
    public struct Verified: Sendable, Hashable {
        /// The RFC 7638 thumbprint of the proof's key, to compare with a token's `cnf.jkt`.
        public let keyThumbprint: String
        /// The proof's `jti`, for the replay cache.
        public let id: String
        /// The proof's `iat`.
        public let issuedAt: Date
        /// The proof's `nonce`, when it carries one.
        public let nonce: String?
    }

    /// The base64url SHA-256 of an access token, as the `ath` claim carries it.
    public static func accessTokenHash(_ accessToken: Substring) -> String {
        SHA256Thumbprint.of(accessToken.utf8)
    }

    /// Makes a proof for one request.
    public static func create(
        method: String,
        url: String,
        key: PrivateKey,
        accessToken: String? = nil,
        nonce: String? = nil,
        id: String = AccessTokenClaims.makeTokenID(),
        issuedAt: Date
    ) throws(KeyError) -> String {
        let header: [String: JSONValue] = [
            "typ": .string(type), "alg": .string(key.algorithm.rawValue), "jwk": .object(key.publicKey.jwkMembers),
        ]
        var claims: [String: JSONValue] = [
            "jti": .string(id), "htm": .string(method),
            "htu": .string(HTTPURI.normalized(url) ?? url), "iat": .integer(issuedAt.numericDate),
        ]
        if let accessToken { claims["ath"] = .string(accessTokenHash(accessToken[...])) }
        if let nonce { claims["nonce"] = .string(nonce) }
        return try JWSSigner.sign(header: header, payload: .object(claims), with: key)
    }

    /// The base64url SHA-256 of an access token, as the `ath` claim carries it.
    public static func accessTokenHash(_ accessToken: String) -> String { accessTokenHash(accessToken[...]) }

    /// Checks a proof for a request, as RFC 9449 §4.3 lists, except replay, which needs shared state.
    ///
    /// - Parameters:
    ///   - accessToken: the token the request presents, whose hash `ath` must carry; nil at a token endpoint.
    ///   - validNonces: when set, `nonce` must be one of these.
    public static func verify(
        _ proof: String,
        method: String,
        url: String,
        accessToken: Substring?,
        validNonces: Set<String>? = nil,
        now: Date,
        window: TimeWindow = TimeWindow()
    ) throws(VerificationError) -> Verified {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(proof[...], maximumLength: maximumLength)
        } catch {
            throw .proofInvalid("the proof is malformed: \(error.reason)")
        }
        let (publicKey, algorithm, thumbprint) = try ProofKeys.shared.key(for: jws)
        let signature: [UInt8]
        do {
            signature = try jws.signature(length: algorithm.signatureLength)
        } catch {
            throw .proofInvalid("the proof's signature is malformed")
        }
        guard publicKey.isValidSignature(signature, for: jws.signingInput) else {
            throw .proofInvalid("the proof's signature does not verify")
        }
        let payload = try proofStep { () throws(VerificationError) in try jws.payload() }
        guard let claims = payload.objectValue else { throw .proofInvalid("the proof's payload must be an object") }
        guard let id = claims["jti"]?.stringValue, !id.isEmpty, id.utf8.count <= maximumIDLength else {
            throw .proofInvalid("the proof needs a jti of 1 to 256 bytes")
        }
        guard let htm = claims["htm"]?.stringValue, htm == method else {
            throw .proofInvalid("htm does not match the request method")
        }
        guard let htu = claims["htu"]?.stringValue, let proofURI = HTTPURI.normalized(htu),
            let requestURI = ProofKeys.shared.normalized(url), proofURI == requestURI
        else { throw .proofInvalid("htu does not match the request URI") }
        guard let iat = claims["iat"]?.integerValue else { throw .proofInvalid("iat must be an integer") }
        let issuedAt = Date(timeIntervalSince1970: TimeInterval(iat))
        let age = now.timeIntervalSince(issuedAt)
        guard age <= window.maximumAge else { throw .proofInvalid("the proof is too old") }
        guard -age <= window.maximumFutureSkew else { throw .proofInvalid("the proof is issued in the future") }
        if let accessToken {
            guard let ath = claims["ath"]?.stringValue,
                constantTimeEquals(ath, accessTokenHash(accessToken))
            else { throw .proofInvalid("ath does not match the presented access token") }
        }
        if let validNonces {
            guard let nonce = claims["nonce"]?.stringValue, validNonces.contains(nonce) else {
                throw .proofInvalid("the proof lacks a current nonce")
            }
        }
        return Verified(keyThumbprint: thumbprint, id: id, issuedAt: issuedAt, nonce: claims["nonce"]?.stringValue)
    }

    /// Checks a proof for a request; see the variant taking the token as a `Substring`.
    public static func verify(
        _ proof: String,
        method: String,
        url: String,
        accessToken: String?,
        validNonces: Set<String>? = nil,
        now: Date,
        window: TimeWindow = TimeWindow()
    ) throws(VerificationError) -> Verified {
        try verify(
            proof,
            method: method,
            url: url,
            accessToken: accessToken.map { $0[...] },
            validNonces: validNonces,
            now: now,
            window: window
        )
    }

    /// Maps any step's error to `proof_invalid`, keeping its reason.
    private static func proofStep<T>(_ body: () throws(VerificationError) -> T) throws(VerificationError) -> T {
        do {
            return try body()
        } catch {
            throw .proofInvalid("the proof is invalid: \(error.reason)")
        }
    }
}
