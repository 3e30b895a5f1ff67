/// Why a key, a JWK or a key set could not be loaded or used.
///
/// Equality compares the stable ``code``; the ``reason`` never holds key material.
public struct KeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, opaque error code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's wire form.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A PEM document that is not a supported private or public key.
        public static let invalidPEM = Code("invalid_pem")
        /// A JWK that is malformed or of an unsupported kind.
        public static let invalidJWK = Code("invalid_jwk")
        /// A JWK set that is malformed or holds duplicate or private keys.
        public static let invalidJWKS = Code("invalid_jwks")
        /// Signing failed inside the crypto library.
        public static let signingFailed = Code("signing_failed")
    }

    /// The stable code.
    public let code: Code
    /// A sentence for humans, without key material.
    public let reason: String
    /// Where the error was raised.
    public let file: String
    /// The line where the error was raised.
    public let line: UInt

    public var description: String { "\(code.rawValue): \(reason)" }

    private init(_ code: Code, _ reason: String, file: String, line: UInt) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// A PEM document that cannot be used.
    public static func invalidPEM(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.invalidPEM, reason, file: file, line: line)
    }
    /// A JWK that cannot be used.
    public static func invalidJWK(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.invalidJWK, reason, file: file, line: line)
    }
    /// A JWK set that cannot be used.
    public static func invalidJWKS(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.invalidJWKS, reason, file: file, line: line)
    }
    /// Signing failed.
    public static func signingFailed(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.signingFailed, reason, file: file, line: line)
    }
}
