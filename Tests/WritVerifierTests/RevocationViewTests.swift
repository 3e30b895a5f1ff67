import Foundation
import Testing
import WritTestSupport
import WritToken
import WritVerifier

@Suite("revocation view and replay cache")
struct RevocationViewTests {
    static func entry(_ sequence: UInt64, _ subject: RevocationSubject, retain: TimeInterval = 600) -> Revocation {
        Revocation(
            sequence: sequence,
            subject: subject,
            revokedAt: TestIdentity.now,
            retainUntil: TestIdentity.now.addingTimeInterval(retain)
        )
    }

    @Test("entries at or below the last sequence are ignored, so a resumed feed cannot rewind")
    func sequence() {
        let view = InMemoryRevocationView()
        view.apply([Self.entry(2, .task("t2")), Self.entry(1, .task("t1"))])
        #expect(view.lastSequence == 2)
        view.apply([Self.entry(2, .task("t-dup"))])
        #expect(view.count == 2)
    }

    /// What the verifier asked before it asked in one call: the key's retirement, then the token's status.
    static func separately(
        _ view: InMemoryRevocationView,
        _ claims: AccessTokenClaims,
        kid: String,
        now: Date
    )
        -> RevocationStatus
    {
        if let entry = view.retirement(ofKey: kid) { return .revoked(entry) }
        return view.status(of: claims, now: now)
    }

    @Test(
        "the one-lock question answers as the key's retirement then the token's status would",
        arguments: [
            ("nothing", []), ("a retired key", [entry(1, .key("es-1"))]), ("another key", [entry(1, .key("es-2"))]),
            ("the task", [entry(1, .task(TestIdentity.taskID))]),
            ("a gap and a retired key", [entry(2, .key("es-1"))]), ("a gap", [entry(2, .task("other"))]),
        ] as [(String, [Revocation])]
    )
    func oneLock(name: String, entries: [Revocation]) {
        let claims = TestIdentity.claims()
        for staleness in [nil, 60.0] as [TimeInterval?] {
            let view = InMemoryRevocationView(maximumStaleness: staleness)
            view.apply(entries)
            for kid in ["es-1", "es-2"] {
                let expected = Self.separately(view, claims, kid: kid, now: TestIdentity.now)
                #expect(view.status(of: claims, signedBy: kid, now: TestIdentity.now) == expected, "\(name)")
            }
        }
        let retired = InMemoryRevocationView(maximumStaleness: 60)
        retired.apply([Self.entry(1, .key("es-1"))])
        #expect(
            retired.status(of: claims, signedBy: "es-1", now: TestIdentity.now) == .revoked(Self.entry(1, .key("es-1")))
        )
    }

    @Test("hasUser compares the subject with the workload's text without building it, as Swift compares strings")
    func hasUser() throws {
        var claims = TestIdentity.claims()
        #expect(claims.hasUser)
        claims.subject = TestIdentity.workload.description
        #expect(!claims.hasUser)
        claims.subject = TestIdentity.workload.description + "x"
        #expect(claims.hasUser)
        claims.subject = String(TestIdentity.workload.description.dropLast())
        #expect(claims.hasUser)
        // The Kelvin sign is canonically equivalent to K, so Swift's comparison calls these texts equal.
        claims.clientID = try SPIFFEID("spiffe://example.org/agents/K")
        claims.subject = "spiffe://example.org/agents/\u{212A}"
        #expect(!claims.hasUser)
        claims.subject = "spiffe://example.org/agents/\u{212A}x"
        #expect(claims.hasUser)
    }

    @Test("other users, tasks and workloads are untouched")
    func scoped() {
        let view = InMemoryRevocationView()
        view.apply([
            Self.entry(1, .task("other")), Self.entry(2, .user("bob@example.org")),
            Self.entry(3, .workload(try! SPIFFEID("spiffe://example.org/agents/other"))),
            Self.entry(4, .issuedBefore(TestIdentity.now.addingTimeInterval(-3600), workload: nil)),
        ])
        #expect(view.status(of: TestIdentity.claims(), now: TestIdentity.now) == .notRevoked)
    }

    @Test("a user revocation does not touch a token whose subject is the workload itself")
    func userlessToken() {
        var claims = TestIdentity.claims()
        claims.subject = claims.clientID.description
        let view = InMemoryRevocationView()
        view.apply([Self.entry(1, .user(claims.clientID.description))])
        #expect(view.status(of: claims, now: TestIdentity.now) == .notRevoked)
    }

    @Test("pruning drops entries whose tokens have all expired, and keeps the rest")
    func prune() {
        let view = InMemoryRevocationView()
        view.apply([Self.entry(1, .task("a"), retain: 10), Self.entry(2, .token("b"), retain: 1000)])
        view.prune(now: TestIdentity.now.addingTimeInterval(11))
        #expect(view.count == 1)
        #expect(view.lastSequence == 2)
    }

    @Test("staleness: cold is stale, a sync makes it fresh, silence past the bound makes it stale again")
    func staleness() {
        let view = InMemoryRevocationView(maximumStaleness: 30)
        let claims = TestIdentity.claims()
        #expect(view.status(of: claims, now: TestIdentity.now) == .stale(lastHeard: nil))
        view.markSynced(at: TestIdentity.now)
        #expect(view.status(of: claims, now: TestIdentity.now.addingTimeInterval(30)) == .notRevoked)
        #expect(
            view.status(of: claims, now: TestIdentity.now.addingTimeInterval(31)) == .stale(lastHeard: TestIdentity.now)
        )
    }

    @Test(
        "feed entries round-trip through JSON",
        arguments: [
            RevocationSubject.task("t"), .token("j"), .user("u"), .workload(TestIdentity.workload),
            .issuedBefore(TestIdentity.now, workload: nil),
            .issuedBefore(TestIdentity.now, workload: TestIdentity.workload),
        ]
    )
    func feedJSON(subject: RevocationSubject) throws {
        let entry = Self.entry(7, subject)
        #expect(try Revocation(json: entry.json) == entry)
    }

    @Test("the replay cache forgets ids only after they expire, and refuses when full of live ids")
    func replayCache() {
        let cache = DPoPReplayCache(capacity: 2)
        let now = TestIdentity.now
        #expect(cache.record(id: "a", keyThumbprint: "k", expiry: now + 60, now: now) == .fresh)
        #expect(cache.record(id: "a", keyThumbprint: "k", expiry: now + 60, now: now) == .replayed)
        #expect(cache.record(id: "a", keyThumbprint: "other-key", expiry: now + 60, now: now) == .fresh)
        #expect(cache.record(id: "b", keyThumbprint: "k", expiry: now + 60, now: now) == .full)
        #expect(cache.record(id: "b", keyThumbprint: "k", expiry: now + 121, now: now + 61) == .fresh)
        #expect(cache.count == 1)
    }

    @Test("one key flooding proofs fills only its own share of the replay cache")
    func replayCachePerKey() {
        let cache = DPoPReplayCache(capacity: 100, perKeyCapacity: 10)
        let now = TestIdentity.now
        for index in 0..<10 {
            #expect(cache.record(id: "\(index)", keyThumbprint: "flooder", expiry: now + 60, now: now) == .fresh)
        }
        #expect(cache.record(id: "more", keyThumbprint: "flooder", expiry: now + 60, now: now) == .full)
        #expect(cache.record(id: "0", keyThumbprint: "honest", expiry: now + 60, now: now) == .fresh)
        #expect(cache.record(id: "more", keyThumbprint: "flooder", expiry: now + 121, now: now + 61) == .fresh)
    }

    @Test("a gap in the feed makes the view refuse every token until it is filled, and nothing is lost")
    func gaps() {
        let view = InMemoryRevocationView()
        let claims = TestIdentity.claims()
        view.apply([Self.entry(1, .task("a")), Self.entry(2, .task("b")), Self.entry(4, .task("d"))])
        #expect(view.lastSequence == 2)
        #expect(view.hasGap)
        #expect(view.status(of: claims, now: TestIdentity.now) == .stale(lastHeard: nil))
        view.apply([Self.entry(3, .task(TestIdentity.taskID))])
        #expect(view.lastSequence == 4)
        #expect(!view.hasGap)
        guard case .revoked(let entry) = view.status(of: claims, now: TestIdentity.now) else {
            Issue.record("the late entry was not applied")
            return
        }
        #expect(entry.sequence == 3)
    }

    @Test("an issued-before cutoff covers tokens issued earlier in the same second")
    func cutoffRounding() {
        var claims = TestIdentity.claims()
        claims.issuedAt = TestIdentity.now
        let revocation = Revocation(
            sequence: 1,
            subject: .issuedBefore(TestIdentity.now.addingTimeInterval(0.7), workload: nil),
            revokedAt: TestIdentity.now,
            retainUntil: TestIdentity.now + 600
        )
        #expect(revocation.covers(claims))
        claims.issuedAt = TestIdentity.now.addingTimeInterval(1)
        #expect(!revocation.covers(claims))
    }

    @Test("the replay cache stays bounded under a long stream of proofs")
    func replayCacheBounded() {
        let cache = DPoPReplayCache(capacity: 1000, perKeyCapacity: 1000)
        var now = TestIdentity.now
        for index in 0..<50_000 {
            now += 0.01
            #expect(cache.record(id: "\(index)", keyThumbprint: "k", expiry: now + 5, now: now) == .fresh)
        }
        #expect(cache.count <= 1000)
    }
}
