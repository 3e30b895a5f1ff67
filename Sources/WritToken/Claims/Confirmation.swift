/// The `cnf` claim: the key the presenter must prove it holds (RFC 7800).
public enum Confirmation: Sendable, Hashable {
    /// DPoP-bound (RFC 9449): the RFC 7638 thumbprint of the proof key.
    case dpop(jwkThumbprint: String)
    /// Certificate-bound (RFC 8705): base64url SHA-256 of the client certificate's DER.
    case mutualTLS(certificateThumbprint: String)

    /// The claim as a JSON object.
    public var json: JSONValue {
        switch self {
        case .dpop(let thumbprint): .object(["jkt": .string(thumbprint)])
        case .mutualTLS(let thumbprint): .object(["x5t#S256": .string(thumbprint)])
        }
    }

    /// Reads the claim; exactly one of `jkt` and `x5t#S256` must be present, holding a SHA-256 thumbprint.
    public init(json: JSONValue) throws(VerificationError) {
        guard let members = json.objectValue else { throw .malformed("cnf must be an object") }
        switch (members["jkt"], members["x5t#S256"]) {
        case (.some(let jkt), nil):
            guard let text = jkt.stringValue, Base64URL.decode(text)?.count == 32 else {
                throw .malformed("cnf.jkt must be a base64url SHA-256 thumbprint")
            }
            self = .dpop(jwkThumbprint: text)
        case (nil, .some(let x5t)):
            guard let text = x5t.stringValue, Base64URL.decode(text)?.count == 32 else {
                throw .malformed("cnf.x5t#S256 must be a base64url SHA-256 thumbprint")
            }
            self = .mutualTLS(certificateThumbprint: text)
        case (nil, nil): throw .malformed("cnf names no confirmation method this profile knows")
        case (.some, .some): throw .malformed("cnf must name exactly one confirmation method")
        }
    }
}
