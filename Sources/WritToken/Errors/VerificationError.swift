/// Why a token, a proof or a request was refused.
///
/// The ``code`` is stable and is what HTTP responses and the CLI print; the ``reason`` is a human sentence
/// that never holds a secret. Two errors are equal when their codes are equal.
public struct VerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, opaque error code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's wire form, e.g. `bad_signature`.
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// The input is not a well-formed token or proof of this profile.
        public static let malformed = Code("malformed")
        /// The header names an algorithm this profile does not accept, or not the key's algorithm.
        public static let unsupportedAlgorithm = Code("unsupported_algorithm")
        /// No key in the configured key set has the token's `kid`.
        public static let unknownKey = Code("unknown_key")
        /// The signature does not verify under the key.
        public static let badSignature = Code("bad_signature")
        /// The token's `exp` has passed.
        public static let expired = Code("expired")
        /// The token's `nbf` or `iat` lies in the future.
        public static let notYetValid = Code("not_yet_valid")
        /// The token was issued by another issuer.
        public static let wrongIssuer = Code("wrong_issuer")
        /// The token is meant for another resource server.
        public static let wrongAudience = Code("wrong_audience")
        /// The `typ` header is not `at+jwt` (or `dpop+jwt` for a proof).
        public static let wrongType = Code("wrong_type")
        /// The token is sender-constrained and the request carries no proof of possession.
        public static let proofRequired = Code("proof_required")
        /// The proof of possession does not fit the token or the request.
        public static let proofInvalid = Code("proof_invalid")
        /// The DPoP proof was seen before.
        public static let proofReplayed = Code("proof_replayed")
        /// The proof of possession is sound but made with another key, or over another certificate, than the
        /// one the token is bound to: the token is presented by someone other than its holder.
        public static let bindingMismatch = Code("binding_mismatch")
        /// The token, its task, workload or user has been revoked.
        public static let revoked = Code("revoked")
        /// The verifier's revocation view is older than its configured bound, so it refuses every token.
        public static let revocationViewStale = Code("revocation_view_stale")
        /// The token is valid but does not allow this action on this resource.
        public static let insufficientAuthorization = Code("insufficient_authorization")

        /// Every code, in a stable order.
        public static let all: [Code] = [
            .malformed, .unsupportedAlgorithm, .unknownKey, .badSignature, .expired, .notYetValid, .wrongIssuer,
            .wrongAudience, .wrongType, .proofRequired, .proofInvalid, .proofReplayed, .bindingMismatch,
            .revoked, .revocationViewStale, .insufficientAuthorization,
        ]
    }

    /// The stable code.
    public let code: Code
    /// A sentence for humans; never contains a token, key or other secret.
    public let reason: String
    /// Where the error was raised, for debugging.
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

    /// A malformed-input error.
    public static func malformed(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.malformed, reason, file: file, line: line)
    }
    /// An algorithm this profile or this key does not accept.
    public static func unsupportedAlgorithm(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.unsupportedAlgorithm, reason, file: file, line: line)
    }
    /// No configured key has this `kid`.
    public static func unknownKey(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.unknownKey, reason, file: file, line: line)
    }
    /// The signature does not verify.
    public static func badSignature(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.badSignature, reason, file: file, line: line)
    }
    /// The token has expired.
    public static func expired(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.expired, reason, file: file, line: line)
    }
    /// The token is not valid yet.
    public static func notYetValid(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.notYetValid, reason, file: file, line: line)
    }
    /// Another issuer signed the token.
    public static func wrongIssuer(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.wrongIssuer, reason, file: file, line: line)
    }
    /// The token is for another audience.
    public static func wrongAudience(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.wrongAudience, reason, file: file, line: line)
    }
    /// The `typ` header is not the expected one.
    public static func wrongType(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.wrongType, reason, file: file, line: line)
    }
    /// A proof of possession is required and missing.
    public static func proofRequired(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.proofRequired, reason, file: file, line: line)
    }
    /// The proof of possession is invalid.
    public static func proofInvalid(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.proofInvalid, reason, file: file, line: line)
    }
    /// The proof was replayed.
    public static func proofReplayed(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.proofReplayed, reason, file: file, line: line)
    }
    /// The proof is made with a key, or over a certificate, other than the token's own.
    public static func bindingMismatch(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.bindingMismatch, reason, file: file, line: line)
    }
    /// The token has been revoked.
    public static func revoked(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.revoked, reason, file: file, line: line)
    }
    /// The revocation view is too old to trust.
    public static func revocationViewStale(_ reason: String, file: String = #fileID, line: UInt = #line) -> Self {
        Self(.revocationViewStale, reason, file: file, line: line)
    }
    /// The access does not cover the action on the resource.
    public static func insufficientAuthorization(
        _ reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> Self {
        Self(.insufficientAuthorization, reason, file: file, line: line)
    }
}
