import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WritBroker
import WritTestSupport
import WritToken

@Suite("Token Status Lists at the broker")
struct StatusListRouteTests {
    @Test("a token names its list; the list is a signed statuslist+jwt whose bit is set by the task's completion")
    func bitFlipsWithCompletion() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.withClient { client async throws in
            func token(_ task: String, _ coder: String) async throws -> AccessTokenClaims {
                let issued = try await client.form(
                    "/v1/token",
                    Bodies.exchange(task: task, actor: coder, audience: TokenRouteTests.git),
                    headers: [TokenRouteTests.dpop: try harness.proof()]
                )
                return try AccessToken.unverifiedClaims(try #require(issued.body["access_token"]?.string))
            }
            let (task, coder) = try await TokenRouteTests.openTask(harness, client)
            let first = try await token(task, coder)
            let second = try await token(task, coder)
            let (otherTask, _) = try await TokenRouteTests.openTask(harness, client)
            let other = try await token(otherTask, coder)
            let reference = try #require(first.status)
            let path = try #require(reference.uri.components(separatedBy: BrokerHarness.issuer).last)
            #expect(path.hasPrefix("/v1/status-lists/"))
            #expect(second.status?.uri == reference.uri && second.status?.index == reference.index + 1)
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            // The key set may be cached for the minute its route says; other answers are not cached.
            #expect(jwks.headers[.cacheControl] == "max-age=60")
            #expect(try await client.json(.get, "/healthz").headers[.cacheControl] == "no-store")
            let keys = try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(jwks.body)))
            func list(ifNoneMatch tag: String? = nil) async throws -> (Int, StatusListToken?, HTTPFields) {
                var headers: HTTPFields = [.accept: StatusListToken.mediaType]
                if let tag { headers[.ifNoneMatch] = tag }
                let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
                guard response.status == .ok else { return (Int(response.status.code), nil, response.headers) }
                #expect(response.headers[.contentType] == StatusListToken.mediaType)
                let read = try StatusListToken.verified(
                    String(buffer: response.body),
                    uri: reference.uri,
                    issuer: BrokerHarness.issuer,
                    now: harness.clock.now,
                    lookup: { keys.key(id: $0) }
                )
                return (200, read, response.headers)
            }
            let (_, before, headers) = try await list()
            let served = try #require(before)
            #expect(served.list.bits == 1 && served.list.count == StatusListService.listSize)
            #expect(served.timeToLive == 30 && headers[.cacheControl] == "max-age=30")
            #expect(served.list.status(at: reference.index) == 0 && served.list.status(at: reference.index + 1) == 0)
            let tag = try #require(headers[.eTag])
            #expect(try await list(ifNoneMatch: tag).0 == 304)
            let completed = try await client.json(.post, "/v1/tasks/\(task)/complete", bearer: coder)
            #expect(completed.status == 200)
            let (status, after, _) = try await list(ifNoneMatch: tag)
            #expect(status == 200, "the list changed, so the old tag no longer matches")
            let revoked = try #require(after)
            #expect(revoked.list.status(at: reference.index) == 1)
            #expect(revoked.list.status(at: reference.index + 1) == 1)
            #expect(revoked.list.status(at: try #require(other.status).index) == 0)
            // Revoking the key (an immediate rotation) revokes its whole list, indices never handed out included.
            let rotated = try await client.json(
                .post,
                "/v1/admin/keys/rotate?immediately=true",
                bearer: harness.operatorToken
            )
            #expect(rotated.status == 201)
            let newJWKS = try await client.json(.get, "/.well-known/jwks.json")
            let newKeys = try JSONWebKeySet(jsonBytes: Array(JSONWriter.bytes(newJWKS.body)))
            let response = try await client.execute(uri: path, method: .get, headers: [:], body: nil)
            let gone = try StatusListToken.verified(
                String(buffer: response.body),
                uri: reference.uri,
                issuer: BrokerHarness.issuer,
                now: harness.clock.now,
                lookup: { newKeys.key(id: $0) }
            )
            for index in [try #require(other.status).index, reference.index + 500, StatusListService.listSize - 1] {
                #expect(gone.list.status(at: index) == 1, "index \(index)")
            }
            let missing = try await client.json(.get, "/v1/status-lists/nothing.0")
            #expect(missing.status == 404 && missing.body["error"]?.string == "not_found")
        }
    }

    @Test(
        "a list travels compressed and reads back bit for bit; a stream that is not ZLIB, or inflates too far, is refused"
    )
    func compression() throws {
        var list = StatusList(count: StatusListService.listSize)
        var generator = SystemRandomNumberGenerator()
        var revoked = Set<Int>()
        while revoked.count < StatusListService.listSize / 100 {
            revoked.insert(Int.random(in: 0..<StatusListService.listSize, using: &generator))
        }
        for index in revoked { list.set(1, at: index) }
        let compressed = list.compressed()
        let read = try StatusList(compressed: compressed, bits: 1)
        #expect(read == list)
        for index in [0, 1, 7, 8, StatusListService.listSize - 1] {
            #expect(read.status(at: index) == (revoked.contains(index) ? 1 : 0))
        }
        #expect(read.status(at: StatusListService.listSize) == nil)
        #expect(throws: VerificationError.self) { try StatusList(compressed: Array(compressed.dropLast(4)), bits: 1) }
        #expect(throws: VerificationError.self) { try StatusList(compressed: [0x78, 0x9C, 1, 2, 3], bits: 1) }
        let bomb = StatusList(count: (StatusList.maximumSize + 1) * 8).compressed()
        #expect(throws: VerificationError.self) { try StatusList(compressed: bomb, bits: 1) }
        // The draft's example (§4.1): statuses 1,0,0,1,1,1,0,1 then 1,1,0,0,0,1,0,1 pack into 0xB9 0xA3.
        var example = StatusList(count: 16)
        for (index, bit) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1].enumerated() where bit == 1 {
            example.set(1, at: index)
        }
        #expect(example.bytes == [0xB9, 0xA3])
        let twoBits = try StatusList(bytes: [0b1001_0100], bits: 2)
        #expect([0, 1, 2, 3].map { twoBits.status(at: $0) } == [0, 1, 1, 2])
    }
}
