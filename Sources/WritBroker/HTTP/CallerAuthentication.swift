import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwiftASN1
import WritAPI
import WritPolicy
import WritToken
import X509

/// Turns a request's credential into the ``Caller`` its route's rule admits, for every route: an operator
/// token or a workload assertion as a bearer credential; the token endpoint's `actor_token` (RFC 8693); or,
/// without those, the X.509-SVID of the mutual-TLS connection (or of a trusted proxy's forwarded certificate).
/// Anyone else is refused before the handler runs.
struct CallerAuthentication: Sendable {
    let broker: Broker
    /// Behind a TLS-terminating proxy: the header carrying the client certificate (URL-encoded PEM, as nginx's
    /// `$ssl_client_escaped_cert`), believed only from `trustedProxies`.
    var forwardedCertificateHeader: String?
    /// The addresses of proxies whose forwarded-certificate header is believed.
    var trustedProxies: Set<String> = []
    /// The largest body accepted (the token endpoint's form is read here).
    var maximumBody = 64 * 1024

    /// The call a handler receives once its caller is admitted.
    func admit(_ request: Request, _ context: BrokerRequestContext, to access: Access) async throws -> RouteCall {
        switch access {
        case .anyone:
            return call(request, context, caller: .anonymous, certificate: nil)
        case .tokenClient:
            return try await tokenClient(request, context)
        default:
            let form = try await clientAssertionForm(request)
            if let form, form["client_assertion"] != nil || form["client_assertion_type"] != nil {
                return try await formClient(request, context, form: form, for: access)
            }
            let (caller, certificate) = try await authenticate(request, context, for: access)
            return call(request, context, caller: caller, certificate: certificate, form: form)
        }
    }

    /// The routes whose form may carry the client's authentication (RFC 7523 §2.2), as OAuth libraries call
    /// the revocation and introspection endpoints.
    static let formAuthenticatedPaths: Set<String> = ["/v1/introspect", "/v1/revoke"]

    /// The form of a request that may authenticate its client in the body: read here, and handed on to the
    /// handler. Nil for any other request, whose body is left unread.
    private func clientAssertionForm(_ request: Request) async throws -> [String: String]? {
        guard Self.formAuthenticatedPaths.contains(request.uri.path), request.headers[.authorization] == nil,
            request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        else { return nil }
        let form = try FormBody.parse(
            try await RouteCall.body(of: request, mediaType: "application/x-www-form-urlencoded", maximum: maximumBody)
        )
        return form
    }

    /// The caller a form's client assertion proves, on a route that admits it.
    private func formClient(
        _ request: Request,
        _ context: BrokerRequestContext,
        form: [String: String],
        for access: Access
    ) async throws -> RouteCall {
        // RFC 6749 §2.3: one authentication method per request.
        if try await presentedSVID(request, context) != nil {
            throw BrokerError(.invalidRequest, "authenticate once: an X.509-SVID or client_assertion, not both")
        }
        let client: FormClientAssertion
        do {
            guard let read = try FormClientAssertion.read(form) else {
                throw BrokerError(.invalidClient, "send client_assertion_type and client_assertion together")
            }
            client = read
        } catch let error as WireError {
            throw BrokerError(.invalidClient, error.description)
        }
        let identity: WorkloadIdentity
        do {
            identity = try workload(by: client.assertion)
        } catch {
            broker.metrics.denied("invalid_workload_assertion")
            throw BrokerError(.invalidClient, "client_assertion: \(error.description)")
        }
        try Self.check(clientID: client.clientID, of: identity)
        return call(request, context, caller: try admit(identity, to: access), certificate: nil, form: form)
    }

    /// Authenticates a workload by its assertion. One its issuer signed but that is refused for its times, issuer
    /// or audience is that workload's credential presented when or where it should not be: a broker signal
    /// (`broker_assertion_refused`) for the monitoring rules.
    private func workload(by assertion: String) throws(VerificationError) -> WorkloadIdentity {
        let context = broker.context
        return try broker.identities.authenticateWorkload(assertion, now: broker.clock.now) { workload in
            context.observe(BrokerSignal(code: "broker_assertion_refused", workload: workload))
        }
    }

    /// RFC 7523 §3: with a client assertion, a `client_id`, when sent, names the client the assertion is for.
    private static func check(clientID: String?, of identity: WorkloadIdentity) throws(BrokerError) {
        if let clientID, clientID != identity.id.description {
            throw BrokerError(.invalidClient, "client_id must be the workload's SPIFFE ID, \(identity.id)")
        }
    }

    private func call(
        _ request: Request,
        _ context: BrokerRequestContext,
        caller: Caller,
        certificate: PresentedSVID?,
        tokenRequest: TokenRequest? = nil,
        form: [String: String]? = nil
    ) -> RouteCall {
        RouteCall(
            broker: broker,
            request: request,
            context: context,
            caller: caller,
            certificate: certificate,
            tokenRequest: tokenRequest,
            form: form,
            maximumBody: maximumBody
        )
    }

    /// The token endpoint's client: the form is checked first (so a malformed request is told what is wrong
    /// with it), then the workload by its `actor_token`, else by the SVID it came over.
    private func tokenClient(_ request: Request, _ context: BrokerRequestContext) async throws -> RouteCall {
        let form = try FormBody.parse(
            try await RouteCall.body(
                of: request,
                mediaType: "application/x-www-form-urlencoded",
                maximum: maximumBody
            )
        )
        let tokenRequest = try TokenRequest(form: form)
        let certificate = try await presentedSVID(request, context)
        let identity: WorkloadIdentity
        if let assertion = tokenRequest.workloadAssertion {
            do {
                identity = try workload(by: assertion)
            } catch {
                broker.metrics.denied("invalid_workload_assertion")
                if tokenRequest.assertionIsClientAuthentication {
                    throw BrokerError(.invalidClient, "client_assertion: \(error.description)")
                }
                if tokenRequest.grantType == TokenEndpointForm.jwtBearerGrantType {
                    // RFC 7523 §3.1: an assertion that does not verify is an invalid grant.
                    throw BrokerError(.invalidGrant, "assertion: \(error.description)")
                }
                throw BrokerError(.invalidRequest, "actor_token: \(error.description)")
            }
        } else if let certificate {
            identity = certificate.identity
        } else {
            throw BrokerError(
                tokenRequest.grantType == TokenEndpointForm.clientCredentialsGrantType
                    ? .invalidClient : .invalidRequest,
                "authenticate the workload: its identity JWT as client_assertion (or actor_token, or assertion), "
                    + "or its X.509-SVID over mutual TLS"
            )
        }
        // One workload per request: a certificate naming another workload than the assertion is refused, rather
        // than quietly ignored (which would leave the token unbound).
        if let certificate, certificate.identity.id != identity.id {
            throw BrokerError(
                .invalidRequest,
                "the certificate and the assertion name different workloads; authenticate once"
            )
        }
        // RFC 7523 §3: with a client assertion, a client_id, when sent, names the client the assertion is for
        // (with an actor_token, a client_id a library sends is ignored, as RFC 6749 §3.2 allows).
        if tokenRequest.assertionIsClientAuthentication {
            try Self.check(clientID: tokenRequest.clientID, of: identity)
        }
        return call(request, context, caller: .workload(identity), certificate: certificate, tokenRequest: tokenRequest)
    }

    /// A bearer credential (operator token or workload assertion) wins; without one, the presented SVID.
    private func authenticate(
        _ request: Request,
        _ context: BrokerRequestContext,
        for access: Access
    ) async throws(BrokerError) -> (Caller, PresentedSVID?) {
        guard let header = request.headers[.authorization] else {
            guard let svid = try await presentedSVID(request, context) else {
                throw BrokerError(
                    .unauthenticated,
                    "send Authorization: Bearer with a workload assertion or operator token, the workload assertion as "
                        + "client_assertion in a form body, or an X.509-SVID"
                )
            }
            return (try admit(svid.identity, to: access), svid)
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
            case .operator(let roles) where roles.contains(identity.role): return (.operator(identity), nil)
            case .resourceServerOrOperator(let roles) where roles.contains(identity.role):
                return (.operator(identity), nil)
            case .workloadOrAdmin where identity.role == .admin: return (.operator(identity), nil)
            default: throw BrokerError(.forbidden, "operator role \(identity.role.rawValue) may not use this route")
            }
        }
        let identity: WorkloadIdentity
        do {
            identity = try workload(by: credential)
        } catch {
            throw BrokerError(.unauthenticated, "workload assertion: \(error.description)")
        }
        return (try admit(identity, to: access), nil)
    }

    /// What an authenticated workload may be on a route: a workload, or a registered resource server.
    func admit(_ identity: WorkloadIdentity, to access: Access) throws(BrokerError) -> Caller {
        switch access {
        case .workload, .workloadOrAdmin: return .workload(identity)
        case .resourceServer, .resourceServerOrOperator:
            let audiences = broker.settings.resourceServers.audiences(servedBy: identity.id)
            guard !audiences.isEmpty else {
                // Only the routes open to operators too may point at an operator token.
                let instead: String
                if case .resourceServerOrOperator = access {
                    instead = ", or use an operator token with the introspect role"
                } else {
                    instead = ""
                }
                throw BrokerError(
                    .forbidden,
                    "\(identity.id) is not a registered resource server: list it under resource_servers in the "
                        + "broker's configuration\(instead)"
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
}
