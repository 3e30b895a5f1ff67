import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WritAPI
import WritBroker
import WritTestSupport
import WritToken

/// The broker as a Shared Signals transmitter: resource servers open streams and poll them for events about
/// their own audiences.
@Suite("Shared Signals: streams and polling")
struct SignalRouteTests {
    static let sessionRevoked = SignalService.sessionRevoked

    @Test("the configuration is public; streams are for registered resource servers only")
    func access() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let metadata = try await client.json(.get, "/.well-known/ssf-configuration")
            #expect(metadata.status == 200)
            let configuration = try TransmitterConfiguration(json: metadata.body, mode: .response)
            #expect(configuration.issuer == BrokerHarness.issuer && configuration.specVersion == "1_0")
            #expect(configuration.deliveryMethods == ["urn:ietf:rfc:8936", "urn:ietf:rfc:8935"])
            #expect(configuration.configurationEndpoint == BrokerHarness.issuer + "/v1/ssf/streams")
            let anonymous = try await client.json(.post, "/v1/ssf/streams", body: "{}")
            #expect(anonymous.status == 401)
            let agent = try harness.workload(BrokerHarness.coder)
            let workload = try await client.json(.post, "/v1/ssf/streams", bearer: agent, body: "{}")
            #expect(workload.status == 403)
            let admin = try await client.json(.get, "/v1/ssf/streams", bearer: harness.operatorToken)
            #expect(admin.status == 403)
        }
    }

    @Test("a stream is created, read, changed, paused and deleted; another receiver's stream is not found")
    func management() async throws {
        let harness = try await BrokerHarness.make { settings in
            settings.resourceServers = ResourceServerRegistry([
                ResourceServer(
                    audience: BrokerHarness.documentsAudience,
                    workloads: [try! SPIFFEID(BrokerHarness.documentsService)],
                    pushEndpoints: ["https://rs.example/"]
                ),
                ResourceServer(audience: TokenRouteTests.git, workloads: [try! SPIFFEID(BrokerHarness.summarizer)]),
            ])
        }
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let service = try harness.workload(BrokerHarness.documentsService)
            let created = try await client.json(
                .post,
                "/v1/ssf/streams",
                bearer: service,
                body: #"{"description": "documents", "events_requested": ["\#(Self.sessionRevoked)"]}"#
            )
            #expect(created.status == 201)
            let stream = try StreamConfiguration(json: created.body, mode: .response)
            #expect(stream.audience == BrokerHarness.documentsService)
            #expect(stream.delivery.method == "urn:ietf:rfc:8936")
            #expect(stream.delivery.endpointURL == BrokerHarness.issuer + "/v1/ssf/poll/" + stream.streamID)
            #expect(stream.eventsDelivered == [Self.sessionRevoked])
            let listed = try await client.json(.get, "/v1/ssf/streams", bearer: service)
            #expect(try StreamList(json: listed.body, mode: .response).streams.map(\.streamID) == [stream.streamID])

            let one = try await client.json(.get, "/v1/ssf/streams?stream_id=\(stream.streamID)", bearer: service)
            #expect(one.status == 200 && one.body["stream_id"]?.string == stream.streamID)
            let patched = try await client.json(
                .patch,
                "/v1/ssf/streams",
                bearer: service,
                body: #"{"stream_id": "\#(stream.streamID)", "description": "renamed"}"#
            )
            #expect(patched.body["description"]?.string == "renamed")
            #expect(patched.body["events_requested"] == .array([.string(Self.sessionRevoked)]))
            // Push goes over https (or plain http on this machine) and never shows its Authorization header again.
            let push = try await client.json(
                .post,
                "/v1/ssf/streams",
                bearer: service,
                body:
                    #"{"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "https://rs.example/e", "authorization_header": "Bearer s3cret"}}"#
            )
            #expect(push.status == 201 && push.body["delivery"]?["endpoint_url"]?.string == "https://rs.example/e")
            #expect(!JSONWriter.string(push.body).contains("s3cret"))
            let pushID = try #require(push.body["stream_id"]?.string)
            // Only where the operator allowed this resource server to receive.
            for endpoint in ["https://rs.example.evil.test/e", "https://internal.example/e", "http://127.0.0.1:9/e"] {
                let elsewhere = try await client.json(
                    .post,
                    "/v1/ssf/streams",
                    bearer: service,
                    body: #"{"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "\#(endpoint)"}}"#
                )
                #expect(elsewhere.status == 403, "\(endpoint)")
            }
            // A PATCH of the endpoint alone keeps the header; the header is still never shown.
            let moved = try await client.json(
                .patch,
                "/v1/ssf/streams",
                bearer: service,
                body:
                    #"{"stream_id": "\#(pushID)", "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "https://rs.example/f"}}"#
            )
            #expect(moved.status == 200 && !JSONWriter.string(moved.body).contains("s3cret"))
            let kept = try await harness.broker.signals.stream(pushID, receiver: BrokerHarness.documentsService)
            #expect(kept.authorization == "Bearer s3cret" && kept.endpoint == "https://rs.example/f")
            let polled = try await client.json(.post, "/v1/ssf/poll/\(pushID)", bearer: service, body: "{}")
            #expect(polled.status == 400, "a push stream is not polled")
            for delivery in [
                #"{"method": "urn:ietf:rfc:8935", "endpoint_url": "http://rs.example/e"}"#,
                #"{"method": "urn:ietf:rfc:8935"}"#,
                #"{"method": "urn:example:carrier-pigeon"}"#,
                #"{"method": "urn:ietf:rfc:8936", "endpoint_url": "https://rs.example/p"}"#,
            ] {
                let refused = try await client.json(
                    .post,
                    "/v1/ssf/streams",
                    bearer: service,
                    body: #"{"delivery": \#(delivery)}"#
                )
                #expect(refused.status == 400 && refused.body["error"]?.string == "invalid_request", "\(delivery)")
            }
            let unknown = try await client.json(.post, "/v1/ssf/streams", bearer: service, body: #"{"nope": 1}"#)
            #expect(unknown.status == 400)

            // Another resource server sees none of it.
            let other = try harness.workload(BrokerHarness.summarizer)
            let foreign = try await client.json(.get, "/v1/ssf/streams?stream_id=\(stream.streamID)", bearer: other)
            #expect(foreign.status == 404)
            #expect(try await client.json(.get, "/v1/ssf/streams", bearer: other).body == .array([]))

            let paused = try await client.json(
                .post,
                "/v1/ssf/status",
                bearer: service,
                body: #"{"stream_id": "\#(stream.streamID)", "status": "paused", "reason": "maintenance"}"#
            )
            #expect(paused.body["status"]?.string == "paused" && paused.body["reason"]?.string == "maintenance")
            let status = try await client.json(.get, "/v1/ssf/status?stream_id=\(stream.streamID)", bearer: service)
            #expect(status.body["status"]?.string == "paused")
            let verify = try await client.json(
                .post,
                "/v1/ssf/verify",
                bearer: service,
                body: #"{"stream_id": "\#(stream.streamID)"}"#
            )
            #expect(verify.status == 409 && verify.body["error"]?.string == "stream_not_enabled")
            let bad = try await client.json(
                .post,
                "/v1/ssf/status",
                bearer: service,
                body: #"{"stream_id": "\#(stream.streamID)", "status": "sleeping"}"#
            )
            #expect(bad.status == 400)
            let deleted = try await client.json(
                .delete,
                "/v1/ssf/streams?stream_id=\(stream.streamID)",
                bearer: service
            )
            #expect(deleted.status == 204)
            #expect(
                try await client.json(.get, "/v1/ssf/status?stream_id=\(stream.streamID)", bearer: service).status
                    == 404
            )
        }
    }

    @Test(
        "a poll returns a signed session-revoked event for a completed task of the receiver's audience, none for another's, and acknowledged events are not sent again"
    )
    func pollByAudience() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            let service = try harness.workload(BrokerHarness.documentsService)
            let created = try await client.json(.post, "/v1/ssf/streams", bearer: service, body: "{}")
            let stream = try #require(created.body["stream_id"]?.string)
            func poll(_ body: String) async throws -> PollResponse {
                let answer = try await client.json(.post, "/v1/ssf/poll/\(stream)", bearer: service, body: body)
                #expect(answer.status == 200, "\(answer.body)")
                return try PollResponse(json: answer.body, mode: .response)
            }
            #expect(try await poll(#"{"returnImmediately": true}"#).events.isEmpty)

            // A task with a token for the documents service, and one with a token elsewhere; both complete.
            let orchestrator = try harness.workload(BrokerHarness.orchestrator)
            let research = try await client.json(.post, "/v1/tasks", bearer: orchestrator, body: Bodies.research())
            let documentsTask = try #require(research.body["id"]?.string)
            let issued = try await client.form(
                "/v1/token",
                Bodies.exchange(task: documentsTask, actor: orchestrator, audience: BrokerHarness.documentsAudience),
                headers: [TokenRouteTests.dpop: try harness.proof()]
            )
            #expect(issued.status == 200)
            let (gitTask, coder) = try await TokenRouteTests.openTask(harness, client)
            _ = try await client.form(
                "/v1/token",
                Bodies.exchange(task: gitTask, actor: coder, audience: TokenRouteTests.git),
                headers: [TokenRouteTests.dpop: try harness.proof()]
            )
            #expect(try await client.json(.post, "/v1/tasks/\(gitTask)/complete", bearer: coder).status == 200)
            #expect(
                try await client.json(.post, "/v1/tasks/\(documentsTask)/complete", bearer: orchestrator).status == 200
            )

            let first = try await poll(#"{"returnImmediately": true}"#)
            #expect(first.events.count == 1, "only the documents task concerns this receiver: \(first.events.keys)")
            let (jti, event) = try #require(first.events.first)
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            let keys = try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(jwks.body)))
            let jws = try CompactJWS(event, maximumLength: 65536)
            let header = try jws.header()
            #expect(header["typ"]?.stringValue == "secevent+jwt")
            let kid = try #require(header["kid"]?.stringValue)
            let key = try #require(keys.key(id: kid))
            #expect(key.publicKey.isValidSignature(try jws.signature(length: 64), for: jws.signingInput))
            let claims = try #require(try jws.payload().objectValue)
            #expect(claims["jti"]?.stringValue == jti)
            #expect(claims["iss"]?.stringValue == BrokerHarness.issuer)
            #expect(claims["aud"]?.stringValue == BrokerHarness.documentsService)
            #expect(claims["txn"]?.stringValue == documentsTask)
            #expect(claims["sub"] == nil && claims["exp"] == nil)
            let subject = try #require(claims["sub_id"]?.objectValue)
            #expect(subject["format"]?.stringValue == "complex")
            #expect(subject["session"]?.objectValue?["id"]?.stringValue == documentsTask)
            let events = try #require(claims["events"]?.objectValue)
            #expect(Array(events.keys) == [Self.sessionRevoked])
            #expect(events[Self.sessionRevoked]?.objectValue?["initiating_entity"]?.stringValue == "system")

            // Not acknowledged: sent again. Acknowledged: gone, and a verification event comes next.
            #expect(try await poll(#"{"returnImmediately": true}"#).events.keys.sorted() == [jti])
            let verify = try await client.json(
                .post,
                "/v1/ssf/verify",
                bearer: service,
                body: #"{"stream_id": "\#(stream)", "state": "s-42"}"#
            )
            #expect(verify.status == 204)
            let next = try await poll(#"{"ack": ["\#(jti)"], "returnImmediately": true}"#)
            #expect(next.events.count == 1 && next.events[jti] == nil)
            let (verificationID, verification) = try #require(next.events.first)
            let verificationClaims = try #require(
                try CompactJWS(verification, maximumLength: 65536).payload().objectValue
            )
            let verificationEvent = verificationClaims["events"]?.objectValue?[SignalService.verification]
            #expect(verificationEvent?.objectValue?["state"]?.stringValue == "s-42")
            #expect(verificationClaims["sub_id"]?.objectValue?["id"]?.stringValue == stream)
            #expect(try await poll(#"{"ack": ["\#(verificationID)"], "returnImmediately": true}"#).events.isEmpty)

            // A workload revocation concerns every audience.
            let revoked = try await client.json(
                .post,
                "/v1/admin/revocations",
                bearer: harness.operatorToken,
                body: #"{"kind": "workload", "id": "\#(BrokerHarness.assistant)"}"#
            )
            #expect(revoked.status == 201, "\(revoked.body)")
            let workload = try await poll(#"{"returnImmediately": true}"#)
            let workloadEvent = try #require(workload.events.values.first)
            let workloadClaims = try #require(try CompactJWS(workloadEvent, maximumLength: 65536).payload().objectValue)
            let user = workloadClaims["sub_id"]?.objectValue?["user"]?.objectValue
            #expect(user?["format"]?.stringValue == "uri" && user?["uri"]?.stringValue == BrokerHarness.assistant)
        }
    }
}
