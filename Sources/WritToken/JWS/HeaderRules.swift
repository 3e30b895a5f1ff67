/// The header checks shared by access tokens and DPoP proofs (RFC 8725 §3.1, §3.11).
enum HeaderRules {
    /// Header members whose presence means the sender wants us to trust something it chose.
    static let forbiddenMembers: [String] = ["crit", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "zip", "b64"]

    /// The algorithm the header names; `none`, HMAC and anything unknown are refused.
    static func algorithm(in header: [String: JSONValue]) throws(VerificationError) -> SignatureAlgorithm {
        guard let value = header["alg"] else { throw .malformed("the header has no alg") }
        guard let name = value.stringValue else { throw .malformed("alg must be a string") }
        guard let algorithm = SignatureAlgorithm(headerValue: name) else {
            throw .unsupportedAlgorithm("alg \(name.prefix(16)) is not accepted; only ES256 and EdDSA are")
        }
        return algorithm
    }

    /// Refuses the forbidden members but those `allowed`; other members (`kid`, say) are let through, as RFC 9449
    /// lets a DPoP proof's header carry them.
    static func noForbiddenMembers(_ header: [String: JSONValue], allowed: Set<String>) throws(VerificationError) {
        for name in forbiddenMembers where header[name] != nil && !allowed.contains(name) {
            throw .malformed("the header member \(name) is not accepted")
        }
    }

    /// Refuses any member outside `allowed`, naming forbidden ones explicitly.
    static func onlyAllowedMembers(_ header: [String: JSONValue], allowed: Set<String>) throws(VerificationError) {
        for name in forbiddenMembers where header[name] != nil && !allowed.contains(name) {
            throw .malformed("the header member \(name) is not accepted")
        }
        for name in header.keys where !allowed.contains(name) {
            throw .malformed("the header member \(name.prefix(32)) is not accepted")
        }
    }

    /// Whether a `typ` value names a media type, compared case-insensitively with an optional `application/`.
    static func typ(_ value: JSONValue?, is expected: String) -> Bool {
        guard let text = value?.stringValue?.lowercased() else { return false }
        return text == expected || text == "application/" + expected
    }
}
