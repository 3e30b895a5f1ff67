import WritToken

/// What a request presents to a resource server: the `Authorization` value and, when present, the DPoP
/// proof, the request's method and URL, and the client certificate.
public struct Presentation: Sendable {
    /// The `Authorization` header value, `Bearer …` or `DPoP …`.
    public var authorization: String
    /// The `DPoP` header value, when the request carries one.
    public var dpopProof: String?
    /// The request method, e.g. `GET`.
    public var method: String
    /// The request's absolute URL as the client addressed it.
    public var url: String
    /// The DER of the TLS client certificate, when the connection presented one.
    public var clientCertificate: [UInt8]?

    /// Describes a request.
    public init(
        authorization: String,
        dpopProof: String? = nil,
        method: String = "GET",
        url: String = "",
        clientCertificate: [UInt8]? = nil
    ) {
        self.authorization = authorization
        self.dpopProof = dpopProof
        self.method = method
        self.url = url
        self.clientCertificate = clientCertificate
    }
}

/// An `Authorization` value split into its scheme and token.
struct AuthorizationValue {
    enum Scheme { case bearer, dpop }
    let scheme: Scheme
    let token: Substring

    init(_ value: String) throws(VerificationError) {
        guard let space = value.firstIndex(of: " ") else {
            throw .malformed("the Authorization value must be a scheme and a token")
        }
        switch value[..<space].lowercased() {
        case "bearer": scheme = .bearer
        case "dpop": scheme = .dpop
        default: throw .malformed("the Authorization scheme must be Bearer or DPoP")
        }
        let rest = value[value.index(after: space)...].drop { $0 == " " }
        guard !rest.isEmpty, !rest.contains(" ") else {
            throw .malformed("the Authorization value has no single token")
        }
        token = rest
    }
}
