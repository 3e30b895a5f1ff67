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

    /// Parses a SPIFFE ID from its UTF-8 bytes, by the same rules, without building the whole text first.
    init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) {
        let parsed = try Self.parse(bytes)
        self.trustDomain = parsed.domain
        self.path = parsed.path
    }

    /// Whether `text` is this ID's text, compared as Swift compares strings (what `description == text` says),
    /// without building the description.
    func isDescription(of text: String) -> Bool {
        let utf8 = text.utf8
        let prefix = "spiffe://".utf8
        if utf8.count == prefix.count + trustDomain.utf8.count + path.utf8.count,
            utf8.starts(with: prefix),
            utf8.dropFirst(prefix.count).starts(with: trustDomain.utf8),
            utf8.dropFirst(prefix.count + trustDomain.utf8.count).elementsEqual(path.utf8)
        {
            return true
        }
        // The description is ASCII, and an ASCII text equals it only byte for byte; any other text may still be
        // canonically equivalent to it (the Kelvin sign and K), which only Swift's own comparison decides.
        var text = text
        if text.withUTF8({ bytes in ByteSearch.isASCII(bytes) }) { return false }
        return description == text
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
            if Self.isAllowed(byte, Self.trustDomainCharacters) { continue }
            switch byte {
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
            // One pass over the path after its leading "/", segment by segment, without splitting it.
            var length = 0
            var dots = 0
            for byte in path.dropFirst() {
                if Self.isAllowed(byte, Self.pathCharacters) {
                    if byte == UInt8(ascii: ".") { dots += 1 }
                    length += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: "/"):
                    try checkSegment(length: length, dots: dots)
                    length = 0
                    dots = 0
                    continue
                case UInt8(ascii: "?"): throw ParseError(reason: "a query is not allowed")
                case UInt8(ascii: "#"): throw ParseError(reason: "a fragment is not allowed")
                case UInt8(ascii: "%"): throw ParseError(reason: "percent-encoding is not allowed")
                default: throw ParseError(reason: "the path has a character outside a-z A-Z 0-9 . - _")
                }
            }
            try checkSegment(length: length, dots: dots)
        }
        return (
            String(decoding: UnsafeBufferPointer(rebasing: domain), as: UTF8.self),
            String(decoding: UnsafeBufferPointer(rebasing: path), as: UTF8.self)
        )
    }

    /// The bytes a trust domain may hold, `a-z 0-9 . - _`, as bits of the ASCII table (low 64, high 64).
    private static let trustDomainCharacters: (UInt64, UInt64) = (0x03FF_6000_0000_0000, 0x07FF_FFFE_8000_0000)
    /// The bytes a path segment may hold, `a-z A-Z 0-9 . - _`.
    private static let pathCharacters: (UInt64, UInt64) = (0x03FF_6000_0000_0000, 0x07FF_FFFE_87FF_FFFE)

    /// Whether `byte` is in a set of ASCII bytes: one shift and mask instead of a chain of range tests.
    @inline(__always)
    private static func isAllowed(_ byte: UInt8, _ set: (UInt64, UInt64)) -> Bool {
        if byte < 64 { return (set.0 >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (set.1 >> UInt64(byte - 64)) & 1 == 1 }
        return false
    }

    /// A path segment must not be empty, `.` or `..`.
    private static func checkSegment(length: Int, dots: Int) throws(ParseError) {
        guard length > 0 else { throw ParseError(reason: "the path has an empty segment") }
        if dots == length, length <= 2 { throw ParseError(reason: "the path has a . or .. segment") }
    }

    /// A SPIFFE ID from a trust domain and a path, checked by the same rules.
    public init(trustDomain: String, path: String) throws(ParseError) {
        try self.init("spiffe://\(trustDomain)\(path)")
    }
}
