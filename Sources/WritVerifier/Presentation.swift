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

/// An `Authorization` value split into its scheme and token, working on UTF-8 bytes throughout.
struct AuthorizationValue {
    enum Scheme { case bearer, dpop }
    let scheme: Scheme
    let token: Substring

    init(_ value: String) throws(VerificationError) {
        let utf8 = value.utf8
        guard let space = utf8.firstIndex(of: UInt8(ascii: " ")) else {
            throw .malformed("the Authorization value must be a scheme and a token")
        }
        let name = utf8[utf8.startIndex..<space]
        if Self.equalsIgnoringCase(name, "bearer") {
            scheme = .bearer
        } else if Self.equalsIgnoringCase(name, "dpop") {
            scheme = .dpop
        } else {
            throw .malformed("the Authorization scheme must be Bearer or DPoP")
        }
        var start = utf8.index(after: space)
        while start < utf8.endIndex, utf8[start] == UInt8(ascii: " ") { start = utf8.index(after: start) }
        let rest = utf8[start...]
        let hasSpace =
            rest.withContiguousStorageIfAvailable { ByteSearch.firstIndex(of: UInt8(ascii: " "), in: $0) != nil }
            ?? rest.contains(UInt8(ascii: " "))
        guard !rest.isEmpty, !hasSpace else {
            throw .malformed("the Authorization value has no single token")
        }
        token = Substring(rest)
    }

    private static func equalsIgnoringCase(_ bytes: Substring.UTF8View, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in bytes {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            guard lowered == lowercase.utf8Start[index] else { return false }
            index += 1
        }
        return true
    }
}
