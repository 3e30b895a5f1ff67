/// Why a client certificate is not accepted as an X.509-SVID. The code is stable; the HTTP layer answers
/// with it.
public struct SVIDError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's text.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No certificate was presented.
        public static let missing = Code("svid_missing")
        /// The certificate could not be parsed.
        public static let malformed = Code("svid_malformed")
        /// The leaf has no URI SAN, or more than one.
        public static let uriSAN = Code("svid_uri_san")
        /// The URI SAN is not a valid SPIFFE ID.
        public static let notSPIFFE = Code("svid_not_spiffe")
        /// The leaf is a CA certificate.
        public static let caLeaf = Code("svid_ca_leaf")
        /// Key usage lacks digitalSignature, or allows keyCertSign or cRLSign.
        public static let keyUsage = Code("svid_key_usage")
        /// Outside its validity period.
        public static let expired = Code("svid_expired")
        /// Not valid yet.
        public static let notYetValid = Code("svid_not_yet_valid")
        /// No trust bundle for the SPIFFE ID's trust domain.
        public static let unknownTrustDomain = Code("svid_unknown_trust_domain")
        /// The chain does not lead to a root of the trust domain's bundle.
        public static let untrusted = Code("svid_untrusted")

        /// Every code.
        public static let all: [Code] = [
            .missing, .malformed, .uriSAN, .notSPIFFE, .caLeaf, .keyUsage, .expired, .notYetValid,
            .unknownTrustDomain, .untrusted,
        ]
    }

    /// The code.
    public let code: Code
    /// What is wrong, naming no secret.
    public let reason: String

    /// An error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
