public import Foundation
public import WritToken

/// A JWT assertion whose signature, issuer, audience and times have been checked.
public struct VerifiedAssertion: Sendable, Hashable {
    /// `sub`.
    public let subject: String
    /// `iss`, when present.
    public let issuer: String?
    /// `exp`.
    public let expiresAt: Date
    /// Every claim, for the policy.
    public let claims: [String: JSONValue]
}

/// Verifies JWT assertions from an external issuer: JWT-SVIDs, OIDC workload tokens and ID tokens.
///
/// The order is that of RFC 8725: size and shape, the header (no embedded keys, no `crit`, an access token
/// or DPoP proof refused by `typ`), the key chosen by `kid` from the issuer's own set, whose algorithm must
/// be the one named, the signature over the bytes received, then the claims against the clock.
public struct AssertionVerifier: Sendable {
    /// The largest assertion accepted.
    public static let maximumLength = 16 * 1024
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var clockSkew: TimeInterval = 30

    /// The `iss` required, or nil to accept none (JWT-SVIDs may omit it).
    public let issuer: String?
    /// The audience the assertion must name.
    public let audience: String

    /// A verifier for one issuer and audience.
    public init(issuer: String?, audience: String) {
        self.issuer = issuer
        self.audience = audience
    }

    /// Reads `iss` and `sub` without verifying anything, only to choose which issuer's keys to verify with.
    public static func unverifiedRouting(_ token: String) -> (issuer: String?, subject: String?)? {
        guard let jws = try? CompactJWS(token, maximumLength: maximumLength),
            let payload = try? jws.payload().objectValue
        else { return nil }
        return (payload["iss"]?.stringValue, payload["sub"]?.stringValue)
    }

    /// Verifies an assertion with the issuer's keys.
    public func verify(_ token: String, keys: IdentityKeySet, now: Date) throws(VerificationError) -> VerifiedAssertion
    {
        try check(try signedClaims(token, keys: keys), now: now)
    }

    /// The claims of an assertion whose size, shape, header and signature verify under the issuer's keys; the
    /// claims themselves are not checked yet.
    public func signedClaims(_ token: String, keys: IdentityKeySet) throws(VerificationError) -> [String: JSONValue] {
        let jws = try CompactJWS(token, maximumLength: Self.maximumLength)
        let header = try jws.header()
        for name in ["jwk", "jku", "x5u", "x5c", "crit"] where header[name] != nil {
            throw .malformed("the header carries \(name), which is refused")
        }
        if let type = header["typ"] {
            guard let text = type.stringValue, ["jwt", "jose"].contains(text.lowercased()) else {
                throw .wrongType("an assertion's typ must be JWT when present")
            }
        }
        guard let alg = header["alg"]?.stringValue else { throw .malformed("the header has no alg") }
        guard let kid = header["kid"]?.stringValue else { throw .unknownKey("the header has no kid") }
        guard let key = keys.keys[kid] else { throw .unknownKey("no key \(kid.prefix(64)) for this issuer") }
        guard key.accepts(alg) else { throw .unsupportedAlgorithm("key \(kid.prefix(64)) is for \(key.algorithm)") }
        guard let signature = Base64URL.decode(bytes: jws.signatureSegment), !signature.isEmpty else {
            throw .badSignature("the signature is not canonical base64url")
        }
        guard key.isValidSignature(signature, for: jws.signingInput) else {
            throw .badSignature("the signature does not verify")
        }
        guard let claims = try jws.payload().objectValue else { throw .malformed("the payload is not an object") }
        return claims
    }

    /// Checks signed claims: `sub`, the times against the clock, the issuer and the audience.
    public func check(_ claims: [String: JSONValue], now: Date) throws(VerificationError) -> VerifiedAssertion {
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else { throw .malformed("no sub") }
        guard let exp = claims["exp"]?.integerValue else { throw .malformed("no exp") }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(exp))
        guard expiresAt.addingTimeInterval(clockSkew) > now else { throw .expired("the assertion has expired") }
        if let nbf = claims["nbf"] {
            guard let seconds = nbf.integerValue else { throw .malformed("nbf is not a number") }
            guard Date(timeIntervalSince1970: TimeInterval(seconds)) <= now.addingTimeInterval(clockSkew) else {
                throw .notYetValid("the assertion is not valid yet")
            }
        }
        if let iat = claims["iat"] {
            guard let seconds = iat.integerValue else { throw .malformed("iat is not a number") }
            guard Date(timeIntervalSince1970: TimeInterval(seconds)) <= now.addingTimeInterval(clockSkew) else {
                throw .notYetValid("the assertion was issued in the future")
            }
        }
        let issued = claims["iss"]?.stringValue
        if let issuer {
            guard let issued, bytesEqual(issued, issuer) else {
                throw .wrongIssuer("the assertion is not from \(issuer)")
            }
        }
        let audiences: [String]
        switch claims["aud"] {
        case .string(let single): audiences = [single]
        case .array(let list): audiences = list.compactMap(\.stringValue)
        default: throw .wrongAudience("the assertion has no aud")
        }
        guard containsBytes(audiences, audience) else { throw .wrongAudience("the assertion is not for \(audience)") }
        return VerifiedAssertion(subject: subject, issuer: issued, expiresAt: expiresAt, claims: claims)
    }
}
