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

@Suite("authorization compares bytes, not characters")
struct ByteAuthorizationTests {
    static let location = "https://docs.writ.test"

    @Test(
        "grapheme tricks cannot smuggle .. past the wildcard check",
        arguments: [
            "public/x\u{0600}/../../\u{200D}\u{0600}/../private/report",
            "public/\u{200D}/../private",
            "public/a/./b",
            "public//a",
        ]
    )
    func dotSegments(identifier: String) {
        let access = VerifiedAccess(
            claims: TestIdentity.claims(details: [.init(type: "document", actions: ["read"], identifier: "public/*")]),
            location: Self.location
        )
        #expect(!access.permits("read", on: Resource(type: "document", identifier: identifier)))
    }

    @Test("canonically equivalent spellings are different names")
    func normalization() {
        let nfc = "customers/Jos\u{00E9}/invoices"
        let nfd = "customers/Jose\u{0301}/invoices"
        #expect(nfc == nfd)  // Swift's String equality says they are the same...
        let access = VerifiedAccess(
            claims: TestIdentity.claims(details: [.init(type: "invoice", actions: ["read"], identifier: nfd)]),
            location: Self.location
        )
        // ...but a grant for one spelling does not allow the other.
        #expect(!access.permits("read", on: Resource(type: "invoice", identifier: nfc)))
        #expect(access.permits("read", on: Resource(type: "invoice", identifier: nfd)))
        let kelvin = VerifiedAccess(
            claims: TestIdentity.claims(details: [.init(type: "\u{212A}ey", actions: ["read"])]),
            location: Self.location
        )
        #expect(!kelvin.permits("read", on: Resource(type: "Key")))
    }
}
