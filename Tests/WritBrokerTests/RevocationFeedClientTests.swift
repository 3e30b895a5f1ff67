import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@testable import WritBroker

@Suite("Following the revocation feed", .timeLimit(.minutes(1)))
struct RevocationFeedClientTests {
    static func claims(task: String, now: Date) throws -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: BrokerHarness.issuer,
            subject: "alice",
            audience: "https://docs.example.org",
            expiresAt: now.addingTimeInterval(300),
            issuedAt: now,
            clientID: try SPIFFEID(BrokerHarness.coder),
            taskID: task,
            authorizationDetails: []
        )
    }

    /// Waits (polling) until `condition` holds, up to five seconds.
    /// Whether `condition` holds within 20 seconds: generous, since the whole suite shares two cores.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < end {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test("a cold view is stale, syncs from the feed, and sees a new revocation through the stream")
    func followsStream() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        for index in 0..<3 { _ = try await harness.broker.revocations.revoke(.user("early-\(index)"), by: "test") }
        let view = InMemoryRevocationView(maximumStaleness: 30)
        let now = harness.clock.now
        let probe = try Self.claims(task: "tsk_watched", now: now)
        #expect(view.status(of: probe, now: now) == .stale(lastHeard: nil))
        let broker = harness.broker
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(port)")
            configuration.silence = .seconds(60)
            // The resource server's own workload identity, as a registered resource server reads the feed.
            configuration.credential = .token(try harness.workload(BrokerHarness.documentsService))
            let follower = RevocationFeedClient(configuration: configuration, view: view, clock: harness.clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await follower.run() }
                #expect(
                    try await Self.eventually {
                        view.lastSequence == 3 && view.status(of: probe, now: now) == .notRevoked
                    }
                )
                _ = try await broker.revocations.revoke(.user("alice"), by: "test")
                #expect(
                    try await Self.eventually {
                        if case .revoked = view.status(of: probe, now: now) { return true }
                        return false
                    },
                    "the stream did not deliver the revocation"
                )
                #expect(view.lastSequence == 4)
                group.cancelAll()
            }
            // End the server's side of the stream so the test server can stop.
            broker.feed.finishAll()
        }
        // Nothing heard for longer than the bound: every token is refused.
        harness.clock.advance(by: 31)
        let later = harness.clock.now
        #expect(view.status(of: try Self.claims(task: "other", now: later), now: later) != .notRevoked)
    }

    @Test("a dropped stream is reconnected: entries made meanwhile arrive by catch-up, later ones by the new stream")
    func reconnects() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let broker = harness.broker
        _ = try await broker.revocations.revoke(.user("early"), by: "test")
        let view = InMemoryRevocationView(maximumStaleness: 30)
        let now = harness.clock.now
        @Sendable func revoked(_ user: String) -> Bool {
            var claims = try! Self.claims(task: "tsk_\(user)", now: now)
            claims.subject = user
            if case .revoked = view.status(of: claims, now: now) { return true }
            return false
        }
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(port)")
            configuration.silence = .seconds(60)
            configuration.reconnectDelay = .seconds(1)
            configuration.credential = .token(harness.operatorToken)
            let follower = RevocationFeedClient(configuration: configuration, view: view, clock: harness.clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await follower.run() }
                #expect(try await Self.eventually { view.lastSequence == 1 && broker.feed.subscriberCount == 1 })
                // The broker drops the stream; a revocation lands while the client is away.
                broker.feed.finishAll()
                #expect(broker.feed.subscriberCount == 0)
                _ = try await broker.revocations.revoke(.user("while-away"), by: "test")
                #expect(broker.feed.subscriberCount == 0, "made while the client was away, so caught up, not streamed")
                #expect(try await Self.eventually { revoked("while-away") }, "missed an entry made while away")
                #expect(try await Self.eventually { broker.feed.subscriberCount == 1 }, "no new stream")
                // Then the new stream delivers as the old one did, resuming after the last sequence number.
                _ = try await broker.revocations.revoke(.user("after"), by: "test")
                #expect(try await Self.eventually { revoked("after") })
                #expect(view.lastSequence == 3)
                #expect(!view.hasGap)
                #expect(!revoked("someone-else"))
                group.cancelAll()
            }
            broker.feed.finishAll()
        }
    }

    @Test("without a resource server's credential the broker refuses the feed, and the view stays stale")
    func credentialRequired() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            for credential in [nil, FeedCredential.token(try harness.workload(BrokerHarness.coder))] {
                let view = InMemoryRevocationView(maximumStaleness: 30)
                var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(port)")
                configuration.credential = credential
                let follower = RevocationFeedClient(configuration: configuration, view: view, clock: harness.clock)
                await #expect(throws: FeedError.self) { try await follower.catchUp() }
                let now = harness.clock.now
                #expect(view.status(of: try Self.claims(task: "t", now: now), now: now) == .stale(lastHeard: nil))
            }
        }
    }

    @Test("a broker that cannot be reached leaves a cold view stale")
    func unreachable() async throws {
        let view = InMemoryRevocationView(maximumStaleness: 30)
        var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(try Self.closedPort())")
        configuration.requestTimeout = .seconds(1)
        let follower = RevocationFeedClient(configuration: configuration, view: view)
        await #expect(throws: (any Error).self) { try await follower.catchUp() }
        let now = Date()
        #expect(view.status(of: try Self.claims(task: "t", now: now), now: now) == .stale(lastHeard: nil))
    }

    @Test("entries the broker pruned are skipped, so a far-behind view has no gap")
    func prunedPrefix() async throws {
        let harness = try await BrokerHarness.make()
        defer { harness.close() }
        let past = harness.clock.now.addingTimeInterval(-3600)
        _ = try await harness.database.write { db in
            for index in 0..<4 {
                _ = try RevocationRows.insert(
                    db,
                    .token("old-\(index)"),
                    revokedAt: past,
                    retainUntil: past,
                    actor: "t"
                )
            }
        }
        await harness.broker.feed.publish(logger: harness.broker.logger)
        _ = try await harness.broker.prune(auditRetention: 86_400)
        _ = try await harness.broker.revocations.revoke(.user("bob"), by: "test")
        let view = InMemoryRevocationView(maximumStaleness: 30)
        try await harness.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(port)")
            configuration.credential = .token(harness.operatorToken)
            let follower = RevocationFeedClient(configuration: configuration, view: view, clock: harness.clock)
            try await follower.catchUp()
        }
        #expect(view.lastSequence == 5)
        #expect(!view.hasGap)
    }

    /// A broker impostor: its pages are honest (the entries in `entries`), its stream sends `stream`'s bytes
    /// once, then `tail` forever (every `pause`) until the client hangs up. Counts the streams opened.
    final class HostileFeed: Sendable {
        let entries = Mutex<[Revocation]>([])
        let streams = Atomic<Int>(0)
        /// Set when the test is done, so open streams end and the server can stop.
        let stopped = Atomic<Bool>(false)
        let stream: String
        let tail: String
        let pause: Duration

        init(stream: String, tail: String, pause: Duration) {
            self.stream = stream
            self.tail = tail
            self.pause = pause
        }

        func add(_ user: String) {
            entries.withLock {
                let at = Date()
                $0.append(
                    Revocation(
                        sequence: UInt64($0.count + 1),
                        subject: .user(user),
                        revokedAt: at,
                        retainUntil: at.addingTimeInterval(3600)
                    )
                )
            }
        }

        var application: some ApplicationProtocol {
            let router = Router()
            router.get("/v1/revocations") { request, _ -> Response in
                let after = Int(request.uri.queryParameters["after"].map(String.init) ?? "0") ?? 0
                let all = self.entries.withLock { $0 }
                let page = all.filter { $0.sequence > UInt64(after) }
                let body = JSONValue.object([
                    "revocations": .array(page.map(\.json)),
                    "first": page.first.map { .integer(Int64($0.sequence)) } ?? .null,
                    "last": .integer(Int64(all.count)),
                    "has_more": .bool(false),
                    "time": .integer(Int64(Date().timeIntervalSince1970)),
                ])
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(body)))
                )
            }
            router.get("/v1/revocations/stream") { _, _ -> Response in
                self.streams.add(1, ordering: .relaxed)
                let (head, tail, pause) = (self.stream, self.tail, self.pause)
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: head))
                        let chunk = ByteBuffer(string: tail)
                        // Ends when the client hangs up: the write then fails.
                        while !self.stopped.load(ordering: .relaxed) {
                            try await writer.write(chunk)
                            try await Task.sleep(for: pause)
                        }
                        try await writer.finish(nil)
                    }
                )
            }
            return Application(router: router)
        }
    }

    /// Follows `feed` with short pauses and the given silence bound while `body` runs, with a view whose
    /// staleness bound is 2 s.
    static func follow(
        _ feed: HostileFeed,
        silence: Duration,
        _ body: @Sendable (InMemoryRevocationView) async throws -> Void
    ) async throws {
        let view = InMemoryRevocationView(maximumStaleness: 2)
        try await feed.application.test(.live) { client async throws in
            guard let port = client.port else { throw NoPort() }
            var configuration = RevocationFeedClient.Configuration(broker: "http://127.0.0.1:\(port)")
            configuration.reconnectDelay = .milliseconds(100)
            configuration.maximumBackoff = .milliseconds(400)
            configuration.silence = silence
            let follower = RevocationFeedClient(configuration: configuration, view: view)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await follower.run() }
                try await body(view)
                group.cancelAll()
            }
            feed.stopped.store(true, ordering: .relaxed)
        }
    }

    @Test("a stream sending one endless line is dropped at the line limit, and the view still catches up by paging")
    func endlessLine() async throws {
        let feed = HostileFeed(
            stream: ": hello\n",
            tail: String(repeating: "a", count: 16 << 10),
            pause: .milliseconds(1)
        )
        feed.add("early")
        try await Self.follow(feed, silence: .seconds(60)) { view async throws in
            let probe = try Self.claims(task: "tsk_probe", now: Date())
            #expect(try await Self.eventually { view.lastSequence == 1 })
            // The stream is dropped and re-opened long before the 60 s watchdog would: the line limit did it.
            #expect(try await Self.eventually { feed.streams.load(ordering: .relaxed) >= 3 }, "the stream was kept")
            // A revocation made meanwhile reaches the view by paging, though no stream ever delivers an event.
            feed.add("alice")
            #expect(
                try await Self.eventually {
                    if case .revoked = view.status(of: probe, now: Date()) { return true }
                    return false
                },
                "the entry made while the stream misbehaved never arrived"
            )
            // Beyond the view's staleness bound, paging alone keeps it synced (on a loaded machine a page may come
            // late, so the view is given the time `eventually` allows to be fresh again).
            try await Task.sleep(for: .seconds(3))
            var other = try Self.claims(task: "tsk_other", now: Date())
            other.subject = "bob"
            #expect(try await Self.eventually { view.status(of: other, now: Date()) == .notRevoked })
        }
    }

    @Test("a stream trickling bytes that never complete a message is dropped by the silence watchdog")
    func trickle() async throws {
        let feed = HostileFeed(stream: "data: ", tail: "x", pause: .milliseconds(50))
        try await Self.follow(feed, silence: .seconds(1)) { _ async throws in
            // Within 1 s the first stream is silent in the only sense that counts; a later one replaces it.
            #expect(
                try await Self.eventually { feed.streams.load(ordering: .relaxed) >= 2 },
                "bytes without a complete message kept the stream open"
            )
        }
    }

    /// Port 1 (tcpmux): privileged and unused, so connecting is refused at once.
    static func closedPort() throws -> Int { 1 }

    struct NoPort: Error {}
}
