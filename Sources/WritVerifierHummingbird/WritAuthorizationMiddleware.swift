import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import WritToken
public import WritVerifier

/// A request context that carries what the middleware verified, for the route handler to read.
public protocol WritAuthorizedRequestContext: RequestContext {
    /// The verified access, set by ``WritAuthorizationMiddleware`` before the handler runs.
    var writAccess: VerifiedAccess? { get set }
}

/// What a route needs: an action on a resource, derived from the request (nil: the route needs no token).
public struct WritRequirement: Sendable {
    /// The action, e.g. `read`.
    public var action: String
    /// The resource, e.g. `Resource(type: "document", identifier: "hr/handbook")`.
    public var resource: Resource

    /// A requirement.
    public init(action: String, resource: Resource) {
        self.action = action
        self.resource = resource
    }
}

/// Verifies a Writ token on every request and authorises the route's action on its resource, answering
/// 401 or 403 with a machine-readable body and a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1).
///
/// A token signed by a key the key set does not hold yet makes a refreshing key set (``RemoteKeySet``)
/// refetch the issuer's keys, at most once per its minimum refresh interval, before it is refused.
///
/// The request URL a DPoP proof must name is `publicBase` + the request's path and query, since behind a
/// proxy the server cannot know the scheme and host clients used.
public struct WritAuthorizationMiddleware<Context: WritAuthorizedRequestContext>: RouterMiddleware {
    /// The verifier.
    public let verifier: TokenVerifier
    /// The scheme and authority clients use, e.g. `https://docs.example.org`.
    public let publicBase: String
    /// What each request needs; nil lets it through without a token.
    public let requirement: @Sendable (Request, Context) -> WritRequirement?
    /// The client certificate (DER) of the request's TLS connection, for certificate-bound tokens.
    public let clientCertificate: @Sendable (Request, Context) -> [UInt8]?

    /// A middleware.
    public init(
        verifier: TokenVerifier,
        publicBase: String,
        clientCertificate: @escaping @Sendable (Request, Context) -> [UInt8]? = { _, _ in nil },
        requirement: @escaping @Sendable (Request, Context) -> WritRequirement?
    ) {
        self.verifier = verifier
        var base = publicBase
        while base.hasSuffix("/") { base.removeLast() }
        self.publicBase = base
        self.clientCertificate = clientCertificate
        self.requirement = requirement
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let needed = requirement(request, context) else { return try await next(request, context) }
        guard let authorization = request.headers[.authorization] else {
            return Self.refusal(.unauthorized, code: nil, reason: "a Writ access token is required", dpop: false)
        }
        let presentation = Presentation(
            authorization: authorization,
            dpopProof: request.headers[HTTPField.Name("DPoP")!],
            method: request.method.rawValue,
            url: publicBase + request.uri.description,
            clientCertificate: clientCertificate(request, context)
        )
        let dpop = authorization.lowercased().hasPrefix("dpop ")
        let access: VerifiedAccess
        do {
            // An unknown `kid` may be a key the broker began signing with since the last refresh (an immediate
            // rotation): the key set refetches once, within its rate limit, before the token is refused.
            access = try await verifier.verifyAllowingKeyRefresh(presentation)
            try verifier.authorize(access, needed.action, on: needed.resource)
        } catch {
            let status: HTTPResponse.Status = error.code == .insufficientAuthorization ? .forbidden : .unauthorized
            return Self.refusal(status, code: error.code.rawValue, reason: error.reason, dpop: dpop)
        }
        var context = context
        context.writAccess = access
        return try await next(request, context)
    }

    /// The refusal: the challenge for the scheme in use, and `{"error", "error_description", "code"}`.
    static func refusal(_ status: HTTPResponse.Status, code: String?, reason: String, dpop: Bool) -> Response {
        let oauthError: String? =
            switch code {
            case nil: nil
            case VerificationError.Code.insufficientAuthorization.rawValue: "insufficient_scope"
            case VerificationError.Code.proofInvalid.rawValue, VerificationError.Code.proofReplayed.rawValue,
                VerificationError.Code.proofRequired.rawValue:
                dpop ? "invalid_dpop_proof" : "invalid_token"
            default: "invalid_token"
            }
        var challenge = dpop ? "DPoP algs=\"ES256 EdDSA\"" : "Bearer"
        if let oauthError {
            // RFC 6750 §3 allows only printable ASCII without `"` and `\` here; the reason may quote the request.
            let safeReason = String(
                String.UnicodeScalarView(
                    reason.unicodeScalars.prefix(300).map { scalar in
                        (0x20...0x7E).contains(scalar.value) && scalar != "\"" && scalar != "\\" ? scalar : "'"
                    }
                )
            )
            challenge += "\(dpop ? "," : "") error=\"\(oauthError)\", error_description=\"\(safeReason)\""
        } else {
            challenge = "Bearer, DPoP algs=\"ES256 EdDSA\""
        }
        var body: [String: JSONValue] = [
            "error": .string(oauthError ?? "unauthorized"), "error_description": .string(reason),
        ]
        if let code { body["code"] = .string(code) }
        return Response(
            status: status,
            headers: [.wwwAuthenticate: challenge, .contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(.object(body))))
        )
    }
}
