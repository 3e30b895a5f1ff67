public import HTTPTypes
public import WritAPI
public import WritPolicy
import WritToken

/// An error the broker answers with: a stable code, the HTTP status it maps to, and a sentence that says what
/// to do. Equality compares the code.
public struct BrokerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable code; clients branch on it.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's text.
        public let rawValue: String
        /// The status it is answered with.
        public let status: HTTPResponse.Status
        init(_ rawValue: String, _ status: HTTPResponse.Status) {
            self.rawValue = rawValue
            self.status = status
        }
        public var description: String { rawValue }
        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.rawValue == rhs.rawValue }
        public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

        /// Malformed or missing input (RFC 6749 §5.2).
        public static let invalidRequest = Code("invalid_request", .badRequest)
        /// The task or grant named is not usable: unknown, closed, or not the caller's (RFC 6749 §5.2).
        public static let invalidGrant = Code("invalid_grant", .badRequest)
        /// The audience is not one the task's grant covers (RFC 8707 §2).
        public static let invalidTarget = Code("invalid_target", .badRequest)
        /// A grant type the token endpoint does not serve (RFC 6749 §5.2).
        public static let unsupportedGrantType = Code("unsupported_grant_type", .badRequest)
        /// The client assertion at the token, introspection or revocation endpoint does not verify (RFC 6749
        /// §5.2, RFC 7523 §3.2).
        public static let invalidClient = Code("invalid_client", .unauthorized)
        /// A `scope` value the audience maps to nothing (RFC 6749 §5.2); the policy files declare the mapping.
        public static let invalidScope = Code("invalid_scope", .badRequest)
        /// `authorization_details` asks for more than the task's grant holds there, or names another resource
        /// server (RFC 9396 §5).
        public static let invalidAuthorizationDetails = Code("invalid_authorization_details", .badRequest)
        /// The authorization endpoint issues nothing (RFC 6749 §4.1.2.1): tokens come from the token endpoint.
        public static let unsupportedResponseType = Code("unsupported_response_type", .badRequest)
        /// A DPoP proof was required, or the one sent is invalid (RFC 9449 §5).
        public static let invalidDPoPProof = Code("invalid_dpop_proof", .badRequest)
        /// The DPoP proof must carry the nonce in the `DPoP-Nonce` header of this response (RFC 9449 §8).
        public static let useDPoPNonce = Code("use_dpop_nonce", .badRequest)
        /// The policy denies the task; the body lists the reasons.
        public static let accessDenied = Code("access_denied", .forbidden)
        /// No credential, or one that does not verify.
        public static let unauthenticated = Code("unauthenticated", .unauthorized)
        /// The caller is known but may not do this.
        public static let forbidden = Code("forbidden", .forbidden)
        /// The workload or user has been revoked; new tasks and tokens are refused until the revocation lapses.
        public static let revoked = Code("revoked", .forbidden)
        /// No such task, route or resource.
        public static let notFound = Code("not_found", .notFound)
        /// The method is not allowed on this route.
        public static let methodNotAllowed = Code("method_not_allowed", .methodNotAllowed)
        /// The task is already closed.
        public static let taskClosed = Code("task_closed", .conflict)
        /// The audit anchor given is older than what has been pruned, so it cannot be checked.
        public static let anchorPruned = Code("anchor_pruned", .conflict)
        /// The receiver holds as many Shared Signals streams as allowed; delete one first.
        public static let tooManyStreams = Code("too_many_streams", .conflict)
        /// The Shared Signals stream is paused or disabled; enable it first.
        public static let streamNotEnabled = Code("stream_not_enabled", .conflict)
        /// A signing key is already waiting to take over; rotate again once it signs.
        public static let rotationPending = Code("rotation_pending", .conflict)
        /// Too many requests from this workload; retry after the `Retry-After` seconds.
        public static let rateLimited = Code("rate_limited", .tooManyRequests)
        /// The workload already has as many open tasks as allowed.
        public static let tooManyOpenTasks = Code("too_many_open_tasks", .tooManyRequests)
        /// The body is larger than the route accepts.
        public static let payloadTooLarge = Code("payload_too_large", .contentTooLarge)
        /// The body is not of the media type the route accepts.
        public static let unsupportedMediaType = Code("unsupported_media_type", .unsupportedMediaType)
        /// The broker is too busy to check a credential now; retry shortly.
        public static let unavailable = Code("temporarily_unavailable", .serviceUnavailable)
        /// Anything unexpected; the response says nothing more.
        public static let internalError = Code("server_error", .internalServerError)

        /// Every code, for documentation and tests.
        public static let all: [Code] = [
            .invalidRequest, .invalidGrant, .invalidTarget, .unsupportedGrantType, .invalidClient, .invalidScope,
            .invalidAuthorizationDetails, .unsupportedResponseType, .invalidDPoPProof, .useDPoPNonce, .accessDenied,
            .unauthenticated, .forbidden, .revoked, .notFound, .methodNotAllowed, .taskClosed, .tooManyStreams,
            .streamNotEnabled, .rotationPending,
            .anchorPruned, .rateLimited,
            .tooManyOpenTasks, .payloadTooLarge, .unsupportedMediaType, .unavailable, .internalError,
        ]
    }

    /// The code.
    public let code: Code
    /// What went wrong and what to do, never holding a secret.
    public let message: String
    /// The policy's reasons, for a denial.
    public let reasons: [DenialReason]?
    /// Seconds to wait before retrying, for rate limits.
    public let retryAfter: Int?
    /// A DPoP nonce for the client's next proof (RFC 9449 §8).
    public var dpopNonce: String?
    /// Where the error was made.
    public let file: String
    /// The line where the error was made.
    public let line: UInt

    /// An error.
    public init(
        _ code: Code,
        _ message: String,
        reasons: [DenialReason]? = nil,
        retryAfter: Int? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.reasons = reasons
        self.retryAfter = retryAfter
        self.file = file
        self.line = line
    }

    /// The broker's database cannot be reached now (503, retry after a second).
    public static var databaseUnavailable: BrokerError {
        BrokerError(
            .unavailable,
            "the broker's database cannot be reached now; retry shortly (a change asked for may or may not have been "
                + "made)",
            retryAfter: 1
        )
    }

    public var description: String { "\(code.rawValue): \(message)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The body: `error` and `error_description` as RFC 6749 §5.2 has them, and a denial's reasons.
    public var wire: ErrorResponse {
        ErrorResponse(error: code.rawValue, errorDescription: message, reasons: reasons?.map(\.wire))
    }
}
