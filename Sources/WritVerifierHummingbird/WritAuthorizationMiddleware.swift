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

    /// Whether the middleware authorises the action, or only verifies the token and leaves the action to the
    /// handler (which reads ``WritAuthorizedRequestContext/writAccess``).
    let authorizesAction: Bool

    /// A requirement.
    public init(action: String, resource: Resource) {
        self.action = action
        self.resource = resource
        self.authorizesAction = true
    }

    /// A valid token, whatever it allows: for routes whose action is known only once the body is read (an MCP
    /// `tools/call` names its tool in the body). The handler authorises with ``TokenVerifier/authorize(_:_:on:)``
    /// and answers a refusal with ``WritAuthorizationMiddleware/forbidden(_:scope:dpop:)``.
    public static let validToken = WritRequirement(verifyingOnly: ())

    private init(verifyingOnly: Void) {
        self.action = ""
        self.resource = Resource(type: "", identifier: nil)
        self.authorizesAction = false
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
    /// The RFC 9728 metadata served at its well-known paths and named in 401 challenges; nil for none.
    public let metadata: ProtectedResourceMetadata?
    /// The scope value that stands for a requirement, named in a 403 `insufficient_scope` challenge.
    public let scope: @Sendable (WritRequirement) -> String?

    /// A middleware.
    public init(
        verifier: TokenVerifier,
        publicBase: String,
        clientCertificate: @escaping @Sendable (Request, Context) -> [UInt8]? = { _, _ in nil },
        metadata: ProtectedResourceMetadata? = nil,
        scope: @escaping @Sendable (WritRequirement) -> String? = { _ in nil },
        requirement: @escaping @Sendable (Request, Context) -> WritRequirement?
    ) {
        self.verifier = verifier
        self.metadata = metadata
        self.scope = scope
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
        if let metadata, request.method == .get, metadata.wellKnownPaths.contains(request.uri.path) {
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(metadata.json)))
            )
        }
        guard let needed = requirement(request, context) else { return try await next(request, context) }
        guard let authorization = request.headers[.authorization] else {
            return refusal(.unauthorized, code: nil, reason: "a Writ access token is required", dpop: false)
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
            access = try await verifier.verifyAllowingKeyRefresh(
                presentation,
                for: needed.authorizesAction ? needed.action : nil,
                on: needed.authorizesAction ? needed.resource : nil
            )
            if needed.authorizesAction { try verifier.authorize(access, needed.action, on: needed.resource) }
        } catch {
            let status: HTTPResponse.Status = error.code == .insufficientAuthorization ? .forbidden : .unauthorized
            return refusal(
                status,
                code: error.code.rawValue,
                reason: error.reason,
                dpop: dpop,
                scope: status == .forbidden ? scope(needed) : nil
            )
        }
        var context = context
        context.writAccess = access
        return try await next(request, context)
    }

    /// A 403 `insufficient_scope` refusal for a handler that authorises its own action (after
    /// ``WritRequirement/validToken``), naming the scope value that would cover it when there is one.
    public func forbidden(_ reason: String, scope: String? = nil, dpop: Bool = false) -> Response {
        refusal(
            .forbidden,
            code: VerificationError.Code.insufficientAuthorization.rawValue,
            reason: reason,
            dpop: dpop,
            scope: scope
        )
    }

    /// A refusal, with `resource_metadata` in its challenge when the middleware has metadata.
    func refusal(
        _ status: HTTPResponse.Status,
        code: String?,
        reason: String,
        dpop: Bool,
        scope: String? = nil
    ) -> Response {
        // The document as this server serves it, at its public base (the resource's origin in production; an
        // example serving a logical resource from a loopback address is still found).
        let url = metadata.map { publicBase + $0.wellKnownPaths[0] }
        return Self.refusal(status, code: code, reason: reason, dpop: dpop, scope: scope, resourceMetadata: url)
    }

    /// The refusal: the challenge for the scheme in use, and `{"error", "error_description", "code"}`. RFC
    /// 9728 §5.1: the challenge names the metadata document; RFC 6750 §3: a 403 names the scope needed.
    static func refusal(
        _ status: HTTPResponse.Status,
        code: String?,
        reason: String,
        dpop: Bool,
        scope: String? = nil,
        resourceMetadata: String? = nil
    ) -> Response {
        let oauthError: String? =
            switch code {
            case nil: nil
            case VerificationError.Code.insufficientAuthorization.rawValue: "insufficient_scope"
            case VerificationError.Code.proofInvalid.rawValue, VerificationError.Code.proofReplayed.rawValue,
                VerificationError.Code.proofRequired.rawValue, VerificationError.Code.bindingMismatch.rawValue:
                dpop ? "invalid_dpop_proof" : "invalid_token"
            default: "invalid_token"
            }
        // Parameter values are printable ASCII without `"` and `\` (RFC 6750 §3); the reason may quote the
        // request, so it is cleaned, and a scope or URL that is not so is left out rather than escaped.
        let quotable = { (text: String) in
            text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }
        }
        var parameters: [String] = []
        if let oauthError {
            let safeReason = String(
                String.UnicodeScalarView(
                    reason.unicodeScalars.prefix(300).map { scalar in
                        (0x20...0x7E).contains(scalar.value) && scalar != "\"" && scalar != "\\" ? scalar : "'"
                    }
                )
            )
            parameters += ["error=\"\(oauthError)\"", "error_description=\"\(safeReason)\""]
        }
        if let scope, quotable(scope) { parameters.append("scope=\"\(scope)\"") }
        if let resourceMetadata, quotable(resourceMetadata) {
            parameters.append("resource_metadata=\"\(resourceMetadata)\"")
        }
        let dpopChallenge = (["DPoP algs=\"ES256 EdDSA\""] + parameters).joined(separator: ", ")
        let bearerChallenge = parameters.isEmpty ? "Bearer" : "Bearer " + parameters.joined(separator: ", ")
        // Without a token, both schemes are offered; with one, the scheme it came in.
        let challenge =
            oauthError == nil ? bearerChallenge + ", " + dpopChallenge : dpop ? dpopChallenge : bearerChallenge
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
