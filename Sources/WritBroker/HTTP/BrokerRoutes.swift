import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import WritToken

/// The broker's HTTP API: every route of the ``AccessTable``, each caller admitted as its rule says (one
/// ``CallerAuthentication`` for all), timed, and with every failure mapped to a 4xx with a stable code (or a
/// bare 500 that leaks nothing).
public struct BrokerRoutes: Sendable {
    /// The broker.
    public let broker: Broker
    /// The largest request body accepted (`limits.request_body`).
    public var maximumBody: Int
    /// Behind a TLS-terminating proxy: the header carrying the client certificate (URL-encoded PEM, as
    /// nginx's `$ssl_client_escaped_cert`), read only from `trustedProxies`.
    public var forwardedCertificateHeader: String?
    /// The addresses of proxies whose forwarded-certificate header is believed.
    public var trustedProxies: Set<String> = []

    /// Routes over a broker.
    public init(broker: Broker) {
        self.broker = broker
        self.maximumBody = broker.settings.limits.requestBody
    }

    /// A router serving every route of the access table; anything else gets a JSON 404 or 405.
    public func router() -> Router<BrokerRequestContext> {
        let router = Router(context: BrokerRequestContext.self)
        router.add(middleware: FallbackMiddleware())
        let authentication = CallerAuthentication(
            broker: broker,
            forwardedCertificateHeader: forwardedCertificateHeader,
            trustedProxies: trustedProxies,
            maximumBody: maximumBody
        )
        for rule in AccessTable.rules {
            router.on(RouterPath(rule.path), method: rule.method) { request, context in
                await respond(rule, request, context, authentication)
            }
        }
        return router
    }

    private func respond(
        _ rule: AccessRule,
        _ request: Request,
        _ context: BrokerRequestContext,
        _ authentication: CallerAuthentication
    ) async -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            let call = try await authentication.admit(request, context, to: rule.access)
            response = try await rule.handler(call)
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

    /// Where a revocation stream resumes: `Last-Event-ID` when sent (a reconnecting client adds it to the URL
    /// it first used), else `?after=`; both are checked whenever present, so a bad one is never ignored.
    static func resumePoint(_ request: Request) throws(BrokerError) -> UInt64 {
        let after = try RouteCall.number(request.uri.queryParameters.get("after"), name: "after")
        let header = try RouteCall.number(request.headers[HTTPField.Name("Last-Event-ID")!], name: "Last-Event-ID")
        return header ?? after ?? 0
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
