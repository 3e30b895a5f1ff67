/// A SPIFFE ID (`spiffe://trust-domain/path`), parsed by the rules of the SPIFFE ID specification.
///
/// Refused: another scheme (the scheme is matched exactly, in lower case), an empty or over-long trust
/// domain, trust-domain characters other than `a-z 0-9 . - _`, a port, userinfo, a query, a fragment,
/// percent-encoding, empty, `.` or `..` path segments, a trailing slash, path characters other than
/// `a-z A-Z 0-9 . - _`, and more than 2048 bytes in all.
public struct SPIFFEID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The trust domain, e.g. `example.org`.
    public let trustDomain: String
    /// The path, empty or starting with `/`.
    public let path: String

    /// The longest SPIFFE ID accepted, in bytes.
    public static let maximumLength = 2048
    /// The longest trust domain accepted, in bytes.
    public static let maximumTrustDomainLength = 255

    /// Why a text is not a SPIFFE ID.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The stable code, always `invalid_spiffe_id`.
        public var code: String { "invalid_spiffe_id" }
        /// What rule the text breaks.
        public let reason: String
        public var description: String { "\(code): \(reason)" }
    }

    public var description: String { "spiffe://\(trustDomain)\(path)" }

    public static func < (lhs: SPIFFEID, rhs: SPIFFEID) -> Bool { lhs.description < rhs.description }

    /// Parses a SPIFFE ID.
    public init(_ text: String) throws(ParseError) {
        var text = text
        let result = text.withUTF8 { bytes -> Result<(domain: String, path: String), ParseError> in
            do throws(ParseError) {
                return .success(try Self.parse(bytes))
            } catch {
                return .failure(error)
            }
        }
        let parsed = try result.get()
        self.trustDomain = parsed.domain
        self.path = parsed.path
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> (domain: String, path: String)
    {
        guard bytes.count <= Self.maximumLength else { throw ParseError(reason: "longer than 2048 bytes") }
        let prefix: StaticString = "spiffe://"
        guard bytes.count >= prefix.utf8CodeUnitCount,
            UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
                .elementsEqual(bytes[0..<prefix.utf8CodeUnitCount])
        else { throw ParseError(reason: "the scheme must be spiffe://") }
        let rest = bytes[prefix.utf8CodeUnitCount...]
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let domain = rest[rest.startIndex..<slash]
        guard !domain.isEmpty else { throw ParseError(reason: "the trust domain is empty") }
        guard domain.count <= Self.maximumTrustDomainLength else {
            throw ParseError(reason: "the trust domain is longer than 255 bytes")
        }
        for byte in domain {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            case UInt8(ascii: ":"): throw ParseError(reason: "a port is not allowed")
            case UInt8(ascii: "@"): throw ParseError(reason: "userinfo is not allowed")
            case UInt8(ascii: "?"): throw ParseError(reason: "a query is not allowed")
            case UInt8(ascii: "#"): throw ParseError(reason: "a fragment is not allowed")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                throw ParseError(reason: "the trust domain must be lower case")
            default: throw ParseError(reason: "the trust domain has a character outside a-z 0-9 . - _")
            }
        }
        let path = rest[slash...]
        if !path.isEmpty {
            // path starts with "/"; split into segments after it.
            let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            for segment in segments {
                guard !segment.isEmpty else { throw ParseError(reason: "the path has an empty segment") }
                if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                    throw ParseError(reason: "the path has a . or .. segment")
                }
                for byte in segment {
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                        continue
                    case UInt8(ascii: "?"): throw ParseError(reason: "a query is not allowed")
                    case UInt8(ascii: "#"): throw ParseError(reason: "a fragment is not allowed")
                    case UInt8(ascii: "%"): throw ParseError(reason: "percent-encoding is not allowed")
                    default: throw ParseError(reason: "the path has a character outside a-z A-Z 0-9 . - _")
                    }
                }
            }
        }
        return (
            String(decoding: UnsafeBufferPointer(rebasing: domain), as: UTF8.self),
            String(decoding: UnsafeBufferPointer(rebasing: path), as: UTF8.self)
        )
    }

    /// A SPIFFE ID from a trust domain and a path, checked by the same rules.
    public init(trustDomain: String, path: String) throws(ParseError) {
        try self.init("spiffe://\(trustDomain)\(path)")
    }
}
