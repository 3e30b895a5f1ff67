import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken

/// The broker as a Shared Signals receiver: a configured transmitter's events revoke users and workloads.
@Suite("Shared Signals: receiving events")
struct SignalReceiverTests {
    static let transmitterIssuer = "https://idp.example.org"
    static let sessionRevoked = SignalService.sessionRevoked
    let key = SigningKey.generate(.es256)

    func harness(trustDomain: String? = "example.org") async throws -> BrokerHarness {
        let transmitter = IdentityIssuer(
            name: "signals:" + Self.transmitterIssuer,
            kind: .signals,
            trustDomain: trustDomain,
            issuer: Self.transmitterIssuer,
            audience: BrokerHarness.issuer,
            keys: .file("/nonexistent")
        )
        let jwks = JSONWriter.bytes(.object(["keys": .array([key.verificationKey.jwk])]))
        return try await BrokerHarness.make(signalTransmitters: [(transmitter, try IdentityKeySet(jsonBytes: jwks))])
    }

    /// A Security Event Token as a transmitter signs it.
    func event(
        _ type: String = sessionRevoked,
        subject: JSONValue,
        jti: String = UUID().uuidString,
        issuer: String = transmitterIssuer,
        audience: String = BrokerHarness.issuer,
        issuedAt: Date = Date(),
        typ: String = "secevent+jwt",
        signedWith signer: SigningKey? = nil
    ) throws -> String {
        let signer = signer ?? key
        return try JWSSigner.sign(
            header: ["alg": .string("ES256"), "kid": .string(signer.id), "typ": .string(typ)],
            payload: .object([
                "iss": .string(issuer), "aud": .string(audience), "iat": .integer(issuedAt.numericDate),
                "jti": .string(jti), "sub_id": subject,
                "events": .object([type: .object(["event_timestamp": .integer(issuedAt.numericDate)])]),
            ]),
            with: signer.privateKey
        )
    }

    static func post(
        _ client: any TestClientProtocol,
        _ token: String
    ) async throws -> (status: Int, body: JSONValue, headers: HTTPFields) {
        try await client.json(.post, "/v1/ssf/events", body: token, contentType: "application/secevent+jwt")
    }

    @Test("session-revoked for a workload's SPIFFE ID revokes the workload, once per jti")
    func workloadRevokedOnce() async throws {
        let harness = try await harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let subject = JSONValue.object(["format": .string("uri"), "uri": .string(BrokerHarness.coder)])
            let token = try event(subject: subject, jti: "evt-1")
            let accepted = try await Self.post(client, token)
            #expect(accepted.status == 202, "\(accepted.body)")
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            let entries = try #require(feed.body["revocations"]?.arrayValue)
            #expect(entries.count == 1, "one workload entry, which covers its open task's tokens: \(entries)")
            #expect(entries.first?.objectValue?["kind"]?.stringValue == "workload")
            let fetched = try await client.json(.get, "/v1/tasks/\(task)", bearer: harness.operatorToken)
            #expect(fetched.body["state"]?.string == "aborted")
            let refused = try await client.json(.post, "/v1/tasks", bearer: coder, body: Bodies.readRepository)
            #expect(refused.status == 403 && refused.body["error"]?.string == "revoked")
            // The same event again changes nothing.
            #expect(try await Self.post(client, token).status == 202)
            let again = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            #expect(again.body["revocations"]?.arrayValue?.count == 1)
            let audit = try await client.json(.get, "/v1/admin/audit?limit=100", bearer: harness.operatorToken)
            #expect(JSONWriter.string(audit.body).contains("signals:\(Self.transmitterIssuer)"))
        }
    }

    @Test(
        "account-disabled for a user (complex, iss_sub) revokes the user; other events are accepted and audited as ignored"
    )
    func userRevokedAndOthersIgnored() async throws {
        let harness = try await harness()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let user = JSONValue.object([
                "format": .string("complex"),
                "user": .object([
                    "format": .string("iss_sub"), "iss": .string(DevelopmentIdentity.userIssuer),
                    "sub": .string("alice"),
                ]),
            ])
            let disabled = try event(SignalReceiver.accountDisabled, subject: user)
            #expect(try await Self.post(client, disabled).status == 202)
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            let entry = try #require(feed.body["revocations"]?.arrayValue?.first?.objectValue)
            #expect(entry["kind"]?.stringValue == "user" && entry["id"]?.stringValue == "alice", "\(entry)")

            let other = try event(
                "https://schemas.openid.net/secevent/caep/event-type/credential-change",
                subject: user
            )
            #expect(try await Self.post(client, other).status == 202)
            let email = try event(subject: .object(["format": .string("email"), "email": .string("a@b.c")]))
            #expect(try await Self.post(client, email).status == 202)
            // A user of an identity provider the broker does not know, and a workload of another trust domain.
            let stranger = try event(
                subject: .object([
                    "format": .string("iss_sub"), "iss": .string("https://other.example"), "sub": .string("bob"),
                ])
            )
            #expect(try await Self.post(client, stranger).status == 202)
            let foreign = try event(
                subject: .object(["format": .string("uri"), "uri": .string("spiffe://other.example/agents/x")])
            )
            #expect(try await Self.post(client, foreign).status == 202)
            let after = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            #expect(after.body["revocations"]?.arrayValue?.count == 1, "ignored events revoke nothing")
            let audit = try await client.json(.get, "/v1/admin/audit?limit=100", bearer: harness.operatorToken)
            #expect(JSONWriter.string(audit.body).contains("signal.ignored"))
        }
    }

    @Test("a transmitter without a trust domain revokes no workload")
    func noTrustDomainNoWorkloads() async throws {
        let harness = try await harness(trustDomain: nil)
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let token = try event(subject: .object(["format": .string("uri"), "uri": .string(BrokerHarness.coder)]))
            #expect(try await Self.post(client, token).status == 202)
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            #expect(feed.body["revocations"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(
        "events from unknown transmitters, for another audience, with another key, the wrong typ, too old or in the future are refused with RFC 8935 codes",
        arguments: [
            ("issuer", "invalid_issuer"), ("audience", "invalid_audience"), ("key", "invalid_key"),
            ("typ", "invalid_request"), ("old", "invalid_request"), ("future", "invalid_request"),
            ("garbage", "invalid_request"),
        ]
    )
    func refusals(_ fault: String, _ code: String) async throws {
        let harness = try await harness()
        defer { harness.close() }
        let subject = JSONValue.object(["format": .string("uri"), "uri": .string(BrokerHarness.coder)])
        let token: String =
            switch fault {
            case "issuer": try event(subject: subject, issuer: "https://elsewhere.example")
            case "audience": try event(subject: subject, audience: "https://other-broker.example")
            case "key": try event(subject: subject, signedWith: SigningKey(id: key.id, privateKey: .generate(.es256)))
            case "typ": try event(subject: subject, typ: "JWT")
            case "old": try event(subject: subject, issuedAt: Date().addingTimeInterval(-2 * 86_400))
            case "future": try event(subject: subject, issuedAt: Date().addingTimeInterval(3600))
            default: "not a jws"
            }
        try await harness.withClient { client async throws in
            let refused = try await Self.post(client, token)
            #expect(refused.status == 400)
            #expect(refused.body["err"]?.string == code, "\(refused.body)")
            #expect(refused.body["error"]?.string == "invalid_request")
            #expect(refused.body["description"]?.string?.isEmpty == false)
            #expect(refused.headers[.contentLanguage] == "en")
            let feed = try await client.json(.get, "/v1/revocations?after=0", bearer: harness.operatorToken)
            #expect(feed.body["revocations"]?.arrayValue?.isEmpty == true)
        }
    }
}
