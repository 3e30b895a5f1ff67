import Foundation
import Testing
import WritPolicy
import WritToken

@Suite("policy semantics")
struct PolicySemanticsTests {
    let policies = try! PolicyFixtures.load(PolicyFixtures.basic)

    @Test("with no rules, everything is denied")
    func defaultDeny() {
        let decision = PolicySet.empty.evaluate(PolicyFixtures.request([PolicyFixtures.read("public/a")]))
        #expect(decision.reasons.map(\.code) == [.noMatchingPermit])
    }

    @Test("a covered request gets exactly what it asked for, never more")
    func exactGrant() throws {
        let details = [PolicyFixtures.read("departments/hr/handbook")]
        let grant = try #require(policies.evaluate(PolicyFixtures.request(details)).grant)
        #expect(grant.authorizationDetails == details)
    }

    @Test("lifetimes are clipped to the smallest ceiling of the permits the grant rests on")
    func clipping() throws {
        let decision = policies.evaluate(
            PolicyFixtures.request(
                [PolicyFixtures.read("departments/hr/handbook"), PolicyFixtures.read("public/news")],
                duration: 3600
            )
        )
        guard case .permit(let grant, let rules) = decision else {
            Issue.record("denied: \(decision.reasons)")
            return
        }
        #expect(rules == ["read-department", "read-public"])
        #expect(grant.taskDuration == 600)
        #expect(grant.tokenLifetime == 120)
        #expect(grant.delegationDepth == 0)
        let shorter = try #require(
            policies.evaluate(PolicyFixtures.request([PolicyFixtures.read("public/news")], duration: 60)).grant
        )
        #expect(shorter.taskDuration == 60)
        #expect(shorter.tokenLifetime == 60)
    }

    @Test("actions of one entry may be covered by different permits (the union of ceilings)")
    func unionPerAction() {
        let set = try! PolicyFixtures.load(
            """
            rules:
              - id: reads
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", identifiers: "a", actions: read }]
              - id: writes
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", identifiers: "a", actions: write }]
            """
        )
        let decision = set.evaluate(PolicyFixtures.request([PolicyFixtures.read("a", actions: ["read", "write"])]))
        #expect(decision.isPermit)
    }

    @Test("a forbid beats every permit")
    func forbidWins() {
        let decision = policies.evaluate(PolicyFixtures.request([PolicyFixtures.read("departments/hr/secret")]))
        #expect(decision.reasons.map(\.code) == [.forbidden])
        #expect(decision.reasons.first?.rules == ["no-secrets"])
    }

    @Test("a forbid fails closed on a wildcard request that could reach what it forbids")
    func forbidOverlapsWildcards() {
        let set = try! PolicyFixtures.load(
            """
            rules:
              - id: all-docs
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", identifiers: "**", actions: read, wildcards: true }]
              - id: no-secrets
                effect: forbid
                resources: [{ type: document, identifiers: "hr/secret/**" }]
            """
        )
        #expect(!set.evaluate(PolicyFixtures.request([PolicyFixtures.read("hr/*")])).isPermit)
        #expect(set.evaluate(PolicyFixtures.request([PolicyFixtures.read("finance/*")])).isPermit)
    }

    @Test("the order of rules and files never changes a decision", arguments: 0..<20)
    func orderIndependence(seed: Int) throws {
        let documents = try #require(
            try StrictJSON().parse(
                Array(#"["departments/hr/a","public/b","departments/hr/secret","departments/eng/c","public/x/y"]"#.utf8)
            )
            .arrayValue?.compactMap(\.stringValue)
        )
        let rules = PolicyFixtures.basic.components(separatedBy: "\n  - ").dropFirst().map { "  - " + $0 }
        var generator = SeededGenerator(seed: UInt64(seed))
        let shuffled = rules.shuffled(using: &generator)
        let files = shuffled.enumerated().map { ("file-\($0.offset).yaml", "rules:\n" + $0.element) }
            .shuffled(using: &generator)
        let reordered = try PolicyLoader.load(sources: files).get()
        for document in documents {
            let request = PolicyFixtures.request([PolicyFixtures.read(document)])
            #expect(reordered.evaluate(request) == policies.evaluate(request), "\(document)")
        }
    }

    @Test("templates draw from the user; a missing or unsafe claim covers nothing")
    func templates() {
        let other = PolicyFixtures.request([PolicyFixtures.read("departments/eng/a")])
        #expect(policies.evaluate(other).reasons.map(\.code) == [.notCovered])
        for department in ["", "hr/../eng", "*", "{x}"] {
            let request = PolicyFixtures.request(
                [PolicyFixtures.read("departments/hr/a")],
                user: ["sub": .string("a"), "department": .string(department)]
            )
            #expect(!policies.evaluate(request).isPermit, "department \(department)")
        }
    }

    @Test("wildcard requests need a permit that allows them")
    func wildcards() {
        #expect(!policies.evaluate(PolicyFixtures.request([PolicyFixtures.read("departments/hr/*")])).isPermit)
    }

    @Test(
        "malformed requests are refused as invalid_request",
        arguments: [
            [AuthorizationDetail](),
            [AuthorizationDetail(type: "document", actions: [])],
            [AuthorizationDetail(type: "document", actions: ["read"], identifier: "departments/hr/../eng/a")],
            [AuthorizationDetail(type: "document", actions: ["read"], identifier: "departments//a")],
            [AuthorizationDetail(type: "document", actions: ["read"], identifier: "departments/*/a")],
        ]
    )
    func invalidRequests(details: [AuthorizationDetail]) {
        #expect(policies.evaluate(PolicyFixtures.request(details)).reasons.map(\.code) == [.invalidRequest])
    }

    @Test("too many resources, bearer tokens and the resource ceiling are each reported")
    func ceilingsDenials() {
        let many = (0..<4).map { PolicyFixtures.read("departments/hr/d\($0)") }
        #expect(policies.evaluate(PolicyFixtures.request(many)).reasons.map(\.code) == [.tooManyResources])
        let bearer = PolicyFixtures.request([PolicyFixtures.read("departments/hr/a")], bearer: true)
        #expect(policies.evaluate(bearer).reasons.map(\.code) == [.bearerNotAllowed])
        let allowed = PolicyFixtures.request([PolicyFixtures.read("public/a")], bearer: true)
        #expect(policies.evaluate(allowed).grant?.bearerTokensAllowed == true)
    }

    @Test("a sub-task gets only a subset of its parent's grant, and no deeper than allowed")
    func subTasks() throws {
        let parentGrant = try #require(
            policies.evaluate(PolicyFixtures.request([PolicyFixtures.read("public/a")])).grant
        )
        let parent = ParentTask(workload: PolicyFixtures.retrieval, grant: parentGrant, depth: 0, remaining: 100)
        let inside = PolicyFixtures.request([PolicyFixtures.read("public/a")], parent: parent)
        let grant = try #require(policies.evaluate(inside).grant)
        #expect(grant.taskDuration == 100)
        #expect(grant.delegationDepth == 0)
        let outside = PolicyFixtures.request([PolicyFixtures.read("public/b")], parent: parent)
        #expect(policies.evaluate(outside).reasons.map(\.code) == [.exceedsParent])
        var exhausted = parent
        exhausted.grant.delegationDepth = 0
        let tooDeep = PolicyFixtures.request([PolicyFixtures.read("public/a")], parent: exhausted)
        #expect(policies.evaluate(tooDeep).reasons.map(\.code) == [.delegationTooDeep])
    }

    @Test("every denial reason code is produced by some request")
    func everyReason() throws {
        let parentGrant = try #require(
            policies.evaluate(PolicyFixtures.request([PolicyFixtures.read("public/a")])).grant
        )
        let parent = ParentTask(workload: PolicyFixtures.retrieval, grant: parentGrant, depth: 0, remaining: 100)
        var exhausted = parent
        exhausted.grant.delegationDepth = 0
        let stranger = try SPIFFEID("spiffe://other.org/agent")
        let requests = [
            PolicyFixtures.request([]),
            PolicyFixtures.request([PolicyFixtures.read("a")], workload: stranger),
            PolicyFixtures.request([PolicyFixtures.read("departments/eng/a")]),
            PolicyFixtures.request([PolicyFixtures.read("departments/hr/secret")]),
            PolicyFixtures.request((0..<4).map { PolicyFixtures.read("departments/hr/d\($0)") }),
            PolicyFixtures.request([PolicyFixtures.read("departments/hr/a")], bearer: true),
            PolicyFixtures.request([PolicyFixtures.read("public/b")], parent: parent),
            PolicyFixtures.request([PolicyFixtures.read("public/a")], parent: exhausted),
        ]
        let produced = Set(requests.flatMap { policies.evaluate($0).reasons.map(\.code) })
        #expect(produced == Set(DenialReason.Code.all))
    }
}

/// A deterministic generator for shuffles.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var value = state
        value ^= value >> 33
        value = value &* 0xFF51_AFD7_ED55_8CCD
        return value ^ (value >> 33)
    }
}

@Suite("policy hardening")
struct PolicyHardeningTests {
    @Test("a forbid on a value is not dodged by spelling it as another JSON type")
    func forbidTypeMismatch() throws {
        let set = try PolicyFixtures.load(
            """
            rules:
              - id: transfers
                effect: permit
                resources:
                  - { type: transfer, locations: "https://docs.example.org", actions: create, where: { amount: { at_least: 0 } } }
              - id: not-this-account
                effect: forbid
                resources:
                  - { type: transfer, where: { account: { equals: 12345 } } }
            """
        )
        for account: JSONValue in [.integer(12345), .double(12345.0), .string("12345"), .array([.string("12345")])] {
            let detail = AuthorizationDetail(
                type: "transfer",
                actions: ["create"],
                locations: [PolicyFixtures.docs],
                extensions: ["amount": .integer(5), "account": account]
            )
            let reasons = set.evaluate(PolicyFixtures.request([detail])).reasons.map(\.code)
            #expect(reasons == [.forbidden], "\(account)")
        }
        let other = AuthorizationDetail(
            type: "transfer",
            actions: ["create"],
            locations: [PolicyFixtures.docs],
            extensions: ["amount": .integer(5), "account": .integer(777)]
        )
        #expect(set.evaluate(PolicyFixtures.request([other])).isPermit)
    }

    @Test("a wildcard request is recognised by its bytes, so grapheme tricks cannot pass it off as a literal")
    func wildcardBytes() throws {
        let set = try PolicyFixtures.load(
            """
            rules:
              - id: projects
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", identifiers: "projects/**", actions: read }]
            """
        )
        let sneaky = PolicyFixtures.read("projects/a\u{0600}/*")
        #expect(!set.evaluate(PolicyFixtures.request([sneaky])).isPermit)
        #expect(set.evaluate(PolicyFixtures.request([PolicyFixtures.read("projects/a\u{0600}/b")])).isPermit)
    }

    @Test(
        "oversized identifiers are refused before any pattern work",
        arguments: [
            String(repeating: "a/", count: 5000) + "a", String(repeating: "x", count: 2000),
        ]
    )
    func oversized(identifier: String) throws {
        let set = try PolicyFixtures.load(PolicyFixtures.basic)
        let reasons = set.evaluate(PolicyFixtures.request([PolicyFixtures.read(identifier)])).reasons.map(\.code)
        #expect(reasons == [.invalidRequest])
    }

    @Test("star patterns match in bounded time, with no backtracking blow-up")
    func globIsLinear() throws {
        let set = try PolicyFixtures.load(
            """
            rules:
              - id: dashes
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", identifiers: "*-*-*-*-*-*-x", actions: read }]
            """
        )
        let clock = ContinuousClock()
        let start = clock.now
        let request = PolicyFixtures.request([PolicyFixtures.read(String(repeating: "-", count: 1000))])
        #expect(!set.evaluate(request).isPermit)
        #expect(start.duration(to: clock.now) < .seconds(1))
        #expect(set.evaluate(PolicyFixtures.request([PolicyFixtures.read("a-b-c-d-e-f-x")])).isPermit)
    }

    @Test("purpose and subject patterns are free text: * crosses /")
    func freeText() throws {
        let set = try PolicyFixtures.load(
            """
            rules:
              - id: reads
                effect: permit
                resources: [{ type: document, locations: "https://docs.example.org", actions: read }]
              - id: no-exports
                effect: forbid
                when: { task: { purpose: "*export*" } }
            """
        )
        var request = PolicyFixtures.request([PolicyFixtures.read("a")])
        request.purpose = "bulk/export of salaries"
        #expect(set.evaluate(request).reasons.map(\.code) == [.forbidden])
    }
}
