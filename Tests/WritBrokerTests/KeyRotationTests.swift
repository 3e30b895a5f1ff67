import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken
import WritVerifier

/// The broker's JWKS as a verifier's source, read in process.
struct BrokerJWKSSource: JWKSSource {
    let broker: Broker
    func fetchJWKS() async throws -> [UInt8] { JSONWriter.bytes(broker.keys.current.published.json) }
}

@Suite("Signing key rotation")
struct KeyRotationTests {
    static let git = "https://git.example.org"
    static let dpop = HTTPField.Name("DPoP")!

    @Test("ten rotations while tokens are issued and verified: no valid token refused, no retired key accepted")
    func tenRotations() async throws {
        let publishLead: TimeInterval = 20
        let refresh: TimeInterval = 10
        let harness = try await BrokerHarness.make { settings in
            settings.tokens.keyPublishLead = Int(publishLead)
            settings.tokens.maximumLifetime = 60
            settings.tokens.defaultLifetime = 60
        }
        defer { harness.close() }
        let broker = harness.broker
        // The verifier refreshes its JWKS every `refresh` seconds and never on an unknown kid, so a token signed
        // by a key it has not fetched would be refused: publish-before-sign is what keeps it working.
        let keys = RemoteKeySet(
            source: BrokerJWKSSource(broker: broker),
            refreshInterval: refresh,
            minimumRefreshInterval: 1e9,
            clock: harness.clock
        )
        try await keys.refresh()
        let verifier = TokenVerifier(
            configuration: .init(issuer: BrokerHarness.issuer, audience: Self.git),
            keys: keys,
            clock: harness.clock
        )
        let url = "https://git.example.org/repos/example-org/writ-demo"
        @Sendable func verify(_ token: String) throws {
            let proof = try DPoPProof.create(
                method: "GET",
                url: url,
                key: harness.dpopKey,
                accessToken: token,
                issuedAt: harness.clock.now
            )
            _ = try verifier.verify(
                Presentation(authorization: "DPoP \(token)", dpopProof: proof, method: "GET", url: url)
            )
        }

        try await harness.withClient { client async throws in
            var task = ""
            var tokens: [(token: String, expires: Date, kid: String)] = []
            var signers: Set<String> = []
            var everPublished: Set<String> = Set(broker.keys.current.records.map(\.id))
            var retired: Set<String> = []
            var rotations = 0
            var refused: [String] = []
            var lastPayload = ""
            let forge = TokenForge()
            for second in 0..<400 {
                harness.clock.advance(by: 1)
                try await broker.keys.advance()
                let published = Set(broker.keys.current.records.map(\.id))
                retired.formUnion(everPublished.subtracting(published))
                everPublished.formUnion(published)
                if second % 25 == 0, rotations < 10 {
                    _ = try await broker.keys.rotate(by: "operator:test")
                    rotations += 1
                }
                if second % Int(refresh) == 0 {
                    try await keys.refresh()
                    // After a refresh, a token signed by any retired key is refused, however fresh its claims.
                    for kid in retired where !lastPayload.isEmpty {
                        let pem = try String(
                            contentsOf: harness.directory.appendingPathComponent("keys/\(kid).pem"),
                            encoding: .utf8
                        )
                        let forged = forge.raw(
                            header: #"{"alg":"ES256","kid":"\#(kid)","typ":"at+jwt"}"#,
                            payload: lastPayload,
                            signer: try PrivateKey(pemRepresentation: pem)
                        )
                        #expect(throws: VerificationError.unknownKey("")) { try verify(forged) }
                    }
                }
                if second % 5 == 0 {
                    if task.isEmpty || second % 600 == 0 {
                        let created = try await client.json(
                            .post,
                            "/v1/tasks",
                            bearer: try harness.workload(BrokerHarness.coder),
                            body: Bodies.readRepository
                        )
                        task = try #require(created.body["id"]?.string)
                    }
                    let issued = try await client.form(
                        "/v1/token",
                        Bodies.exchange(
                            task: task,
                            actor: try harness.workload(BrokerHarness.coder),
                            audience: Self.git
                        ),
                        headers: [Self.dpop: try harness.proof()]
                    )
                    let token = try #require(issued.body["access_token"]?.string, "\(issued.body)")
                    let parts = token.split(separator: ".")
                    let header = try StrictJSON().parse(bytes: try #require(Base64URL.decode(parts[0])))
                    let kid = try #require(header["kid"]?.string)
                    lastPayload = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self)
                    signers.insert(kid)
                    #expect(!retired.contains(kid))
                    tokens.append((token, harness.clock.now.addingTimeInterval(60), kid))
                }
                for entry in tokens {
                    if entry.expires > harness.clock.now.addingTimeInterval(-1) {
                        // Unexpired (allowing the second of rounding in exp): accepted.
                        if entry.expires > harness.clock.now.addingTimeInterval(1) {
                            do { try verify(entry.token) } catch { refused.append("\(second) \(entry.kid): \(error)") }
                        }
                    } else {
                        // Past its expiry (and the verifier's 30 s skew): refused whatever its key.
                        if entry.expires < harness.clock.now.addingTimeInterval(-31) {
                            #expect(throws: VerificationError.self) { try verify(entry.token) }
                        }
                    }
                }
            }
            #expect(refused.isEmpty, "\(refused.prefix(5))")
            #expect(rotations == 10)
            // Every rotation took effect: eleven keys signed, and all but the last two were retired by the end.
            #expect(signers.count == 11)
            #expect(retired.count >= 9)
            #expect(retired.isDisjoint(with: Set(broker.keys.current.records.map(\.id))))
        }
    }

    @Test("rotations are checked in the database: concurrent calls, a late tick, a restart mid-rotation")
    func rotationState() async throws {
        let harness = try await BrokerHarness.make { $0.tokens.keyPublishLead = 10 }
        defer { harness.close() }
        let broker = harness.broker
        let first = broker.keys.current.active.id
        // Two operators at once: one rotation, one rotation_pending.
        @Sendable func rotate(_ actor: String) async -> Result<KeyRotation, BrokerError> {
            do { return .success(try await broker.keys.rotate(by: actor)) } catch { return .failure(error) }
        }
        async let one = rotate("a")
        async let two = rotate("b")
        let outcomes = await [one, two]
        let rotations = outcomes.compactMap { try? $0.get() }
        #expect(rotations.count == 1)
        #expect(
            outcomes.contains { if case .failure(let error) = $0 { error.code == .rotationPending } else { false } }
        )
        let second = try #require(rotations.first).newKey
        #expect(try #require(rotations.first).previousKey == first)
        #expect(
            FileManager.default.fileExists(atPath: harness.directory.appendingPathComponent("keys/\(second).pem").path)
        )

        // A restart while the new key is pending: the old key signs, both are published.
        let state = StateDirectory(path: harness.directory.path)
        let restarted = try await SigningKeys.loadOrCreate(
            store: broker.stores.keys,
            directory: state.keys,
            now: harness.clock.now
        )
        #expect(restarted.active.id == first)
        #expect(Set(restarted.published.keys.keys) == [first, second])

        // The activation time passes with no tick in between: the next rotation still sees who signs.
        harness.clock.advance(by: 11)
        let later = try await broker.keys.rotate(by: "a")
        #expect(later.previousKey == second)
        #expect(broker.keys.current.active.id == second)
        let records = try await broker.keys.records().records
        let retiring = records.filter { $0.retiresAt != nil && $0.retiredAt == nil }.map(\.id)
        #expect(Set(retiring) == [first, second])
        let afterRestart = try await SigningKeys.loadOrCreate(
            store: broker.stores.keys,
            directory: state.keys,
            now: harness.clock.now
        )
        #expect(afterRestart.active.id == second)
        #expect(Set(afterRestart.published.keys.keys) == [first, second, later.newKey])
    }

    @Test("an immediate rotation (a compromised key) signs with the new key and drops the old one at once")
    func immediateRotation() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let old = harness.broker.keys.current.active.id
        // A normal rotation is pending (its key may have been taken too): the immediate one overrides it.
        let pending = try await harness.broker.keys.rotate(by: "operator:test")
        let rotation = try await harness.broker.keys.rotate(by: "operator:test", immediately: true)
        #expect(rotation.previousKey == old)
        let retired = try await harness.broker.keys.records().records.filter { $0.retiredAt != nil }.map(\.id)
        #expect(Set(retired) == [old, pending.newKey])
        #expect(harness.broker.keys.current.active.id == rotation.newKey)
        #expect(Array(harness.broker.keys.current.published.keys.keys) == [rotation.newKey])
        let events = try await harness.broker.audit.latest(4).map(\.event)
        #expect(events == ["key.created", "key.rotated", "key.retired", "key.retired"])
        try await harness.withClient { client async throws in
            let listed = try await client.json(.get, "/v1/admin/keys", bearer: harness.operatorToken)
            let states = (listed.body["keys"]?.arrayValue ?? []).map { ($0["kid"]?.string, $0["state"]?.string) }
            #expect(states.first { $0.0 == old }?.1 == "retired")
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            #expect(jwks.body["keys"]?.arrayValue?.compactMap { $0["kid"]?.string } == [rotation.newKey])
            let bad = try await client.json(
                .post,
                "/v1/admin/keys/rotate?immediately=yes",
                bearer: harness.operatorToken
            )
            #expect(bad.status == 400)
        }
    }

    @Test("a broker that does not lead stops publishing a key once its retirement is due, before the leader records it")
    func followerDropsDueKey() async throws {
        let harness = try await BrokerHarness.make { $0.tokens.keyPublishLead = 10 }
        defer { harness.close() }
        let old = harness.broker.keys.current.active.id
        let rotation = try await harness.broker.keys.rotate(by: "operator:test")
        harness.clock.advance(by: 11)
        try await harness.broker.keys.advance(retiring: false)
        #expect(Set(harness.broker.keys.current.published.keys.keys) == [old, rotation.newKey], "not due yet")
        harness.clock.advance(by: rotation.previousRetiresAt.timeIntervalSince(harness.clock.now) + 1)
        try await harness.broker.keys.advance(retiring: false)
        #expect(Array(harness.broker.keys.current.published.keys.keys) == [rotation.newKey])
        let records = try await harness.broker.keys.records().records
        #expect(records.first { $0.id == old }?.retiredAt == nil, "retiring is the leader's")
    }

    @Test("a second rotation before the new key signs is refused; the key list says where each key stands")
    func oneRotationAtATime() async throws {
        let harness = try await BrokerHarness.make { $0.tokens.keyPublishLead = 30 }
        defer { harness.close() }
        let first = harness.broker.keys.current.active.id
        let rotation = try await harness.broker.keys.rotate(by: "operator:test")
        #expect(rotation.previousKey == first)
        #expect(harness.broker.keys.current.active.id == first)
        #expect(harness.broker.keys.current.published.keys.count == 2)
        await #expect(throws: BrokerError(.rotationPending, "")) {
            try await harness.broker.keys.rotate(by: "operator:test")
        }
        try await harness.withClient { client async throws in
            let listed = try await client.json(.get, "/v1/admin/keys", bearer: harness.operatorToken)
            let states = (listed.body["keys"]?.arrayValue ?? []).map { $0["state"]?.string }
            #expect(states == ["active", "pending"])
            let coder = try harness.workload(BrokerHarness.coder)
            let refused = try await client.json(.post, "/v1/admin/keys/rotate", bearer: coder)
            #expect(refused.status == 403)
        }
        harness.clock.advance(by: 31)
        try await harness.broker.keys.advance()
        #expect(harness.broker.keys.current.active.id == rotation.newKey)
        #expect(harness.broker.keys.current.published.keys.count == 2)
        harness.clock.advance(by: TimeInterval(harness.broker.settings.tokens.maximumLifetime))
        try await harness.broker.keys.advance()
        // Still published: the margin for verifiers' clock skew and the tick.
        #expect(harness.broker.keys.current.published.keys.count == 2)
        harness.clock.advance(by: 60)
        try await harness.broker.keys.advance()
        #expect(Array(harness.broker.keys.current.published.keys.keys) == [rotation.newKey])
        let events = try await harness.broker.audit.latest(10).map(\.event)
        #expect(events.suffix(3) == ["key.created", "key.rotated", "key.retired"])
    }
}
