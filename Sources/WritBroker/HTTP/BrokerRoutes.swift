import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import SwiftASN1
import WritPolicy
import WritToken
import X509

/// The broker's HTTP API: every route of the ``AccessTable``, each authenticated as the table says, timed,
/// and with every failure mapped to a 4xx with a stable code (or a bare 500 that leaks nothing).
public struct BrokerRoutes: Sendable {
    /// The broker.
    public let broker: Broker
    /// The largest request body accepted.
    public var maximumBody = 64 * 1024
    /// The largest page of the revocation feed.
    public var maximumPage = 1000
    /// Behind a TLS-terminating proxy: the header carrying the client certificate (URL-encoded PEM, as
    /// nginx's `$ssl_client_escaped_cert`), read only from `trustedProxies`.
    public var forwardedCertificateHeader: String?
    /// The addresses of proxies whose forwarded-certificate header is believed.
    public var trustedProxies: Set<String> = []

    /// Routes over a broker.
    public init(broker: Broker) { self.broker = broker }

    typealias Handler = @Sendable (Request, BrokerRequestContext, Caller) async throws -> Response

    /// A router serving every route of the access table; anything else gets a JSON 404 or 405.
    public func router() -> Router<BrokerRequestContext> {
        let router = Router(context: BrokerRequestContext.self)
        router.add(middleware: FallbackMiddleware())
        for rule in AccessTable.rules {
            guard let handler = handler(for: rule) else { continue }
            router.on(RouterPath(rule.path), method: rule.method) { request, context in
                await respond(rule, request, context, handler)
            }
        }
        return router
    }

    private func respond(
        _ rule: AccessRule,
        _ request: Request,
        _ context: BrokerRequestContext,
        _ handler: Handler
    ) async -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            let caller = try await authenticate(request, context, for: rule.access)
            response = try await handler(request, context, caller)
        } catch let error as BrokerError {
            if error.code == .internalError {
                broker.logger.error("request failed", metadata: ["route": "\(rule.path)", "error": "\(error)"])
            }
            response = JSONResponse.make(error)
        } catch {
            broker.logger.error("unexpected failure", metadata: ["route": "\(rule.path)", "error": "\(error)"])
            response = JSONResponse.make(BrokerError(.internalError, "internal error"))
        }
        broker.metrics.request(
            route: rule.path,
            method: rule.method.rawValue,
            status: response.status.code,
            duration: ContinuousClock.now - started
        )
        return response
    }

    /// Authenticates the caller as the route requires; refuses anyone else. A bearer credential (operator
    /// token or workload assertion) wins; without one, the X.509-SVID of the connection (or of a trusted
    /// proxy's forwarded certificate) is the workload.
    func authenticate(
        _ request: Request,
        _ context: BrokerRequestContext,
        for access: Access
    ) async throws(BrokerError) -> Caller {
        if access == .anyone { return .anonymous }
        guard let header = request.headers[.authorization] else {
            guard let svid = try await presentedSVID(request, context) else {
                throw BrokerError(
                    .unauthenticated,
                    "send Authorization: Bearer with a workload assertion or operator token, or an X.509-SVID"
                )
            }
            return try Self.admit(svid.identity, to: access, resourceServers: broker.settings.resourceServers)
        }
        guard header.hasPrefix("Bearer "), header.utf8.count < 20_000 else {
            throw BrokerError(
                .unauthenticated,
                "send Authorization: Bearer with a workload assertion or operator token"
            )
        }
        let credential = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let now = broker.clock.now
        if credential.hasPrefix(OperatorAuthenticator.prefix) {
            guard let identity = try await broker.operators.authenticate(credential, now: now) else {
                throw BrokerError(.unauthenticated, "the operator token is not valid")
            }
            switch access {
            case .operator(let roles) where roles.contains(identity.role): return .operator(identity)
            case .resourceServerOrOperator(let roles) where roles.contains(identity.role): return .operator(identity)
            case .workloadOrAdmin where identity.role == .admin: return .operator(identity)
            default: throw BrokerError(.forbidden, "operator role \(identity.role.rawValue) may not use this route")
            }
        }
        let identity: WorkloadIdentity
        do {
            identity = try broker.identities.authenticateWorkload(credential, now: now)
        } catch {
            throw BrokerError(.unauthenticated, "workload assertion: \(error.description)")
        }
        return try Self.admit(identity, to: access, resourceServers: broker.settings.resourceServers)
    }

    /// What an authenticated workload may be on a route: a workload, or a registered resource server.
    static func admit(
        _ identity: WorkloadIdentity,
        to access: Access,
        resourceServers: ResourceServerRegistry
    ) throws(BrokerError) -> Caller {
        switch access {
        case .workload, .workloadOrAdmin: return .workload(identity)
        case .resourceServerOrOperator:
            let audiences = resourceServers.audiences(servedBy: identity.id)
            guard !audiences.isEmpty else {
                throw BrokerError(
                    .forbidden,
                    "\(identity.id) is not a registered resource server: list it under resource_servers in the "
                        + "broker's configuration, or use an operator token with the introspect role"
                )
            }
            return .resourceServer(identity, audiences: audiences)
        default: throw BrokerError(.forbidden, "workloads may not use this route")
        }
    }

    /// The X.509-SVID presented with a request: the mutual-TLS connection's, or one forwarded by a trusted
    /// proxy. Nil when there is none; an error when one is presented and refused.
    func presentedSVID(_ request: Request, _ context: BrokerRequestContext) async throws(BrokerError) -> PresentedSVID?
    {
        if let connection = context.clientCertificates, !connection.chain.isEmpty {
            return try await broker.certificates.authenticate(connection: connection)
        }
        guard let name = forwardedCertificateHeader.flatMap({ HTTPField.Name($0) }),
            let value = request.headers[name]
        else { return nil }
        guard let address = context.remoteAddress?.ipAddress, trustedProxies.contains(address) else {
            broker.logger.warning(
                "forwarded client certificate from an untrusted address ignored",
                metadata: ["peer": "\(context.remoteAddress?.ipAddress ?? "-")"]
            )
            return nil
        }
        guard let pem = value.removingPercentEncoding,
            let certificates = try? TrustBundles.certificates(pem: pem)
        else { throw BrokerError(.unauthenticated, "svid_malformed: the forwarded certificate is not PEM") }
        var chain: [[UInt8]] = []
        for certificate in certificates {
            var serializer = DER.Serializer()
            guard (try? serializer.serialize(certificate)) != nil else {
                throw BrokerError(.unauthenticated, "svid_malformed: the forwarded certificate does not encode")
            }
            chain.append(serializer.serializedBytes)
        }
        return try await broker.certificates.authenticate(chain: chain).0
    }

    private func handler(for rule: AccessRule) -> Handler? {
        switch (rule.method, rule.path) {
        case (.get, "/healthz"): return { _, _, _ in JSONResponse.make(.object(["status": .string("ok")])) }
        case (.get, "/metrics"):
            return { _, _, _ in
                Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: broker.metrics.render()))
                )
            }
        case (.get, "/.well-known/jwks.json"):
            return { _, _, _ in
                JSONResponse.make(broker.keys.current.published.json, headers: [.cacheControl: "max-age=60"])
            }
        case (.get, "/.well-known/spiffe-bundle"):
            return { _, _, _ in
                JSONResponse.make(
                    ServerMetadata.spiffeBundle(broker.keys.current),
                    headers: [.cacheControl: "max-age=60"]
                )
            }
        case (.get, "/.well-known/oauth-authorization-server"):
            return { _, _, _ in
                JSONResponse.make(
                    ServerMetadata.document(
                        issuer: broker.settings.issuer,
                        mutualTLSBase: broker.settings.mutualTLSBase
                    )
                )
            }
        case (.post, "/v1/token"): return { request, context, _ in try await token(request, context) }
        case (.get, "/v1/revocations"): return { request, _, _ in try await revocationPage(request) }
        case (.get, "/v1/revocations/stream"):
            return { request, _, caller in try RevocationStream(broker: broker).response(for: request, caller: caller) }
        case (.post, "/v1/tasks"): return { request, _, caller in try await createTask(request, caller) }
        case (.get, "/v1/tasks/{id}"):
            return { _, context, caller in
                JSONResponse.make(try await broker.tasks.fetch(id: try taskID(context), for: caller).json)
            }
        case (.post, "/v1/tasks/{id}/heartbeat"):
            return { _, context, caller in
                JSONResponse.make(try await broker.tasks.heartbeat(taskID: try taskID(context), by: caller).json)
            }
        case (.post, "/v1/tasks/{id}/complete"):
            return { _, context, caller in try await close(context, .complete, caller) }
        case (.post, "/v1/tasks/{id}/abort"):
            return { _, context, caller in try await close(context, .abort, caller) }
        case (.post, "/v1/revoke"): return { request, _, caller in try await holderRevoke(request, caller) }
        case (.post, "/v1/introspect"):
            return { request, _, caller in
                let form = try await form(request)
                guard let token = form["token"] else { throw BrokerError(.invalidRequest, "token is required") }
                return JSONResponse.make(try await broker.tokens.introspect(token, for: caller))
            }
        case (.post, "/v1/admin/revocations"):
            return { request, _, caller in
                let subject = try RevocationRequest.subject(from: try await json(request))
                return JSONResponse.make(
                    try await broker.revocations.revoke(subject, by: caller.auditName).json,
                    status: .created
                )
            }
        case (.post, "/v1/admin/revocations/{seq}/lift"):
            return { request, context, caller in try await lift(request, context, caller) }
        case (.get, "/v1/admin/tasks"): return { request, _, _ in try await listTasks(request) }
        case (.get, "/v1/admin/tasks/{id}"):
            return { _, context, _ in
                let tree = try await broker.tasks.tree(id: try taskID(context))
                return JSONResponse.make(
                    .object([
                        "tasks": .array(tree.tasks.map(\.json)),
                        "tokens": .array(
                            tree.tokens.map { entry in
                                guard case .object(var members) = entry.token.json else { return entry.token.json }
                                members["revoked"] = .bool(entry.revoked)
                                return .object(members)
                            }
                        ),
                        "time": .integer(broker.clock.now.numericDate),
                    ])
                )
            }
        case (.get, "/v1/admin/workloads"):
            return { _, _, _ in
                JSONResponse.make(.object(["workloads": .array(try await broker.tasks.workloads().map(\.json))]))
            }
        case (.get, "/v1/admin/keys"):
            return { _, _, _ in
                let (records, activeID) = try await broker.keys.records()
                let now = broker.clock.now
                return JSONResponse.make(
                    .object([
                        "keys": .array(records.map { $0.json(activeID: activeID, now: now) }),
                        "active": .string(activeID), "publish_lead": .integer(Int64(broker.settings.keyPublishLead)),
                    ])
                )
            }
        case (.post, "/v1/admin/keys/rotate"):
            return { request, _, caller in
                let flag = request.uri.queryParameters.get("immediately")
                guard flag == nil || flag == "true" || flag == "false" else {
                    throw BrokerError(.invalidRequest, "immediately must be true or false")
                }
                let rotation = try await broker.keys.rotate(by: caller.auditName, immediately: flag == "true")
                return JSONResponse.make(rotation.json, status: .created)
            }
        case (.get, "/v1/admin/audit"):
            return { request, _, _ in
                let query = request.uri.queryParameters
                let after = try Self.number(query.get("after"), name: "after") ?? 0
                let limit = try Self.number(query.get("limit"), name: "limit", in: 1...1000) ?? 100
                let entries: [AuditEntry]
                if let last = try Self.number(query.get("last"), name: "last", in: 0...1000) {
                    entries = try await broker.audit.latest(Int(clamping: min(last, 1000)))
                } else {
                    entries = try await broker.audit.entries(
                        after: Int64(clamping: after),
                        limit: Int(clamping: min(limit, 1000))
                    )
                }
                return JSONResponse.make(.object(["entries": .array(entries.map(\.json))]))
            }
        case (.get, "/v1/admin/audit/verify"):
            return { request, _, _ in
                let query = request.uri.queryParameters
                var anchor: AuditLog.Anchor?
                guard (query.get("anchor_seq") == nil) == (query.get("anchor_hash") == nil) else {
                    throw BrokerError(.invalidRequest, "send anchor_seq and anchor_hash together")
                }
                if let sequence = try Self.number(query.get("anchor_seq"), name: "anchor_seq") {
                    guard let hash = query.get("anchor_hash"), hash.utf8.count == 64,
                        hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
                    else { throw BrokerError(.invalidRequest, "anchor_hash must be 64 lower-case hex digits") }
                    anchor = AuditLog.Anchor(sequence: Int64(clamping: sequence), hash: hash)
                }
                guard case .object(var body) = try await broker.audit.verify(against: anchor).json else {
                    throw BrokerError(.internalError, "the audit report is malformed")
                }
                // Said back, so a client knows the anchor was checked (an older broker would ignore it).
                if let anchor { body["anchor_seq"] = .integer(anchor.sequence) }
                return JSONResponse.make(.object(body))
            }
        default: return nil
        }
    }

    private func lift(_ request: Request, _ context: BrokerRequestContext, _ caller: Caller) async throws -> Response {
        guard let text = context.parameters.get("seq"), let sequence = try Self.number(text, name: "seq"), sequence > 0
        else { throw BrokerError(.notFound, "no such entry") }
        guard let members = try await json(request).objectValue, members.keys.allSatisfy({ $0 == "reason" }),
            let reason = members["reason"]?.stringValue,
            !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.utf8.count <= 1024
        else { throw BrokerError(.invalidRequest, "send {\"reason\": \"why the revocation was a mistake\"}") }
        let lift = try await broker.revocations.lift(sequence, reason: reason, by: caller.auditName)
        return JSONResponse.make(lift.json, status: lift.isNew ? .created : .ok)
    }

    private func listTasks(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = TaskFilter()
        for name in ["workload", "user", "audience", "state"] {
            if let value = query.get(name), value.utf8.count > 2048 {
                throw BrokerError(.invalidRequest, "\(name) is longer than 2048 bytes")
            }
        }
        filter.workload = query.get("workload")
        filter.user = query.get("user")
        filter.audience = query.get("audience")
        if let state = query.get("state") {
            guard let parsed = TaskState(rawValue: state) else {
                throw BrokerError(.invalidRequest, "state must be open, completed, aborted or expired")
            }
            filter.state = parsed
        }
        filter.limit = Int(try Self.number(query.get("limit"), name: "limit", in: 1...1000) ?? 100)
        let tasks = try await broker.tasks.list(matching: filter)
        return JSONResponse.make(
            .object([
                "tasks": .array(tasks.prefix(filter.limit).map(\.json)), "has_more": .bool(tasks.count > filter.limit),
                "time": .integer(broker.clock.now.numericDate),
            ])
        )
    }

    private func token(_ request: Request, _ context: BrokerRequestContext) async throws -> Response {
        let form = try await form(request)
        let tokenRequest = try TokenRequest(form: form)
        let proofs = request.headers[values: HTTPField.Name("DPoP")!]
        guard proofs.count <= 1 else { throw BrokerError(.invalidDPoPProof, "send at most one DPoP header") }
        let svid = try await presentedSVID(request, context)
        let issued = try await broker.tokens.issue(tokenRequest, dpopProof: proofs.first, certificate: svid)
        var headers: HTTPFields = [:]
        if broker.settings.requireDPoPNonces {
            headers[HTTPField.Name("DPoP-Nonce")!] = broker.tokens.dpopNonces.current(now: broker.clock.now)
        }
        return JSONResponse.make(issued.json, headers: headers)
    }

    private func createTask(_ request: Request, _ caller: Caller) async throws -> Response {
        guard case .workload(let identity) = caller else { throw BrokerError(.forbidden, "only workloads begin tasks") }
        let descriptor = try TaskDescriptor(json: try await json(request))
        let task = try await broker.tasks.create(descriptor, by: identity)
        return JSONResponse.make(task.json, status: .created, headers: [.location: "/v1/tasks/\(task.id)"])
    }

    private func close(_ context: BrokerRequestContext, _ event: TaskEvent, _ caller: Caller) async throws -> Response {
        let closure = try await broker.tasks.close(taskID: try taskID(context), event, by: caller)
        return JSONResponse.make(
            .object([
                "state": .string(closure.state.rawValue),
                "tasks_closed": .array(closure.tasks.map(JSONValue.string)),
                "revocations": .array(closure.revocations.map(\.json)),
                "sequence": .integer(Int64(closure.revocations.map(\.sequence).max() ?? 0)),
            ])
        )
    }

    private func holderRevoke(_ request: Request, _ caller: Caller) async throws -> Response {
        guard case .workload(let identity) = caller else {
            throw BrokerError(.forbidden, "only workloads use RFC 7009")
        }
        let form = try await form(request)
        guard let token = form["token"] else { throw BrokerError(.invalidRequest, "token is required") }
        // RFC 7009 §2.1: the hint may be ignored; only access tokens exist here.
        try await broker.revocations.revokeOwnToken(token, by: identity)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    private func revocationPage(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let after = try Self.number(query.get("after"), name: "after") ?? 0
        let limit = min(try Self.number(query.get("limit"), name: "limit", in: 1...1000) ?? 500, UInt64(maximumPage))
        let page = try await broker.revocations.page(after: after, limit: Int(max(limit, 1)))
        var body: [String: JSONValue] = [
            "revocations": .array(page.entries.map(\.json)),
            "last": .integer(Int64(page.last)),
            "has_more": .bool((page.entries.last?.sequence ?? page.last) < page.last),
            "time": .integer(broker.clock.now.numericDate),
        ]
        body["first"] = page.first.map { .integer(Int64($0)) } ?? .null
        return JSONResponse.make(.object(body))
    }

    /// A non-negative integer parameter written in decimal digits only (no sign, no spaces), or a 400 naming it.
    static func number(_ text: String?, name: String) throws(BrokerError) -> UInt64? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = UInt64(text)
        else { throw BrokerError(.invalidRequest, "\(name) must be a non-negative integer") }
        return value
    }

    /// An integer parameter within the range the API document gives, or a 400 naming it and the range: a
    /// value outside is refused rather than clamped, so a client learns its request was not served as sent.
    static func number(_ text: String?, name: String, in range: ClosedRange<UInt64>) throws(BrokerError) -> UInt64? {
        guard let value = try number(text, name: name) else { return nil }
        guard range.contains(value) else {
            throw BrokerError(.invalidRequest, "\(name) must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Where a revocation stream resumes: `Last-Event-ID` when sent (a reconnecting client adds it to the URL
    /// it first used), else `?after=`; both are checked whenever present, so a bad one is never ignored.
    static func resumePoint(_ request: Request) throws(BrokerError) -> UInt64 {
        let after = try number(request.uri.queryParameters.get("after"), name: "after")
        let header = try number(request.headers[HTTPField.Name("Last-Event-ID")!], name: "Last-Event-ID")
        return header ?? after ?? 0
    }

    private func taskID(_ context: BrokerRequestContext) throws(BrokerError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.utf8.count <= 128 else {
            throw BrokerError(.notFound, "no such task")
        }
        return id
    }

    private func body(_ request: Request, mediaType: String) async throws -> [UInt8] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == mediaType else {
            throw BrokerError(.unsupportedMediaType, "send the body as \(mediaType)")
        }
        do {
            return Array(buffer: try await request.body.collect(upTo: maximumBody))
        } catch {
            throw BrokerError(.payloadTooLarge, "the body is larger than \(maximumBody) bytes")
        }
    }

    private func form(_ request: Request) async throws -> [String: String] {
        try FormBody.parse(try await body(request, mediaType: "application/x-www-form-urlencoded"))
    }

    private func json(_ request: Request) async throws -> JSONValue {
        let bytes = try await body(request, mediaType: "application/json")
        do {
            return try StrictJSON(maximumDepth: 16).parse(bytes: bytes)
        } catch {
            throw BrokerError(.invalidRequest, "the body is not strict JSON: \(error.description)")
        }
    }
}

/// Turns the router's own errors (no such route, wrong method) into the broker's JSON errors.
struct FallbackMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            switch error.status {
            case .methodNotAllowed:
                return JSONResponse.make(
                    BrokerError(.methodNotAllowed, "this route does not take \(request.method.rawValue)")
                )
            case .notFound:
                let allowed = AccessTable.methods(servingPath: request.uri.path)
                guard !allowed.isEmpty else { return JSONResponse.make(BrokerError(.notFound, "no such route")) }
                var response = JSONResponse.make(
                    BrokerError(.methodNotAllowed, "this route does not take \(request.method.rawValue)")
                )
                response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return response
            case .contentTooLarge: return JSONResponse.make(BrokerError(.payloadTooLarge, "the body is too large"))
            default:
                if error.status.code < 500 {
                    return JSONResponse.make(BrokerError(.invalidRequest, "the request is malformed"))
                }
                return JSONResponse.make(BrokerError(.internalError, "internal error"))
            }
        } catch {
            return JSONResponse.make(BrokerError(.internalError, "internal error"))
        }
    }
}
