import Testing
import WritTestSupport
import WritToken
import WritVerifier

@Suite("authorization matching")
struct AuthorizationTests {
    static let location = "https://docs.writ.test"

    static func access(_ details: [AuthorizationDetail]) -> VerifiedAccess {
        VerifiedAccess(claims: TestIdentity.claims(details: details), location: location)
    }

    struct Case: Sendable, CustomStringConvertible {
        let detail: AuthorizationDetail
        let action: String
        let resource: Resource
        let allowed: Bool
        var description: String { "\(detail.type) \(detail.identifier ?? "*") \(action) \(resource) → \(allowed)" }
    }

    static let cases: [Case] = [
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/b"),
            action: "read",
            resource: .init(type: "document", identifier: "a/b"),
            allowed: true
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/b"),
            action: "write",
            resource: .init(type: "document", identifier: "a/b"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/b"),
            action: "read",
            resource: .init(type: "folder", identifier: "a/b"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/b"),
            action: "read",
            resource: .init(type: "document", identifier: "a/bc"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/b"),
            action: "read",
            resource: .init(type: "document"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/*"),
            action: "read",
            resource: .init(type: "document", identifier: "a/b/c"),
            allowed: true
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/*"),
            action: "read",
            resource: .init(type: "document", identifier: "a/"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/*"),
            action: "read",
            resource: .init(type: "document", identifier: "a"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/*"),
            action: "read",
            resource: .init(type: "document", identifier: "ab/c"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], identifier: "a/*"),
            action: "read",
            resource: .init(type: "document", identifier: "a/../secret"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: [], identifier: "a/b"),
            action: "read",
            resource: .init(type: "document", identifier: "a/b"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"]),
            action: "read",
            resource: .init(type: "document", identifier: "anything"),
            allowed: true
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], locations: ["https://other.writ.test"]),
            action: "read",
            resource: .init(type: "document"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], locations: [location]),
            action: "read",
            resource: .init(type: "document"),
            allowed: true
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], datatypes: ["metadata"]),
            action: "read",
            resource: .init(type: "document", datatype: "content"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], datatypes: ["metadata"]),
            action: "read",
            resource: .init(type: "document"),
            allowed: false
        ),
        Case(
            detail: .init(type: "document", actions: ["read"], datatypes: ["metadata"]),
            action: "read",
            resource: .init(type: "document", datatype: "metadata"),
            allowed: true
        ),
        Case(
            detail: .init(type: "document", actions: ["READ"]),
            action: "read",
            resource: .init(type: "document"),
            allowed: false
        ),
    ]

    @Test("each matching rule", arguments: cases)
    func rule(testCase: Case) {
        #expect(Self.access([testCase.detail]).permits(testCase.action, on: testCase.resource) == testCase.allowed)
    }

    @Test("a grant with no entries allows nothing")
    func emptyGrant() {
        #expect(!Self.access([]).permits("read", on: Resource(type: "document", identifier: "a")))
    }

    @Test("any one covering entry is enough")
    func union() {
        let access = Self.access([
            .init(type: "document", actions: ["read"], identifier: "a"),
            .init(type: "document", actions: ["write"], identifier: "b"),
        ])
        #expect(access.permits("write", on: Resource(type: "document", identifier: "b")))
        #expect(!access.permits("write", on: Resource(type: "document", identifier: "a")))
    }
}
