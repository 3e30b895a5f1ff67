import Testing
import WritTestSupport
import WritToken
import WritVerifier

@Suite("the hostile catalogue")
struct HostileCatalogueTests {
    @Test("every forged or malformed presentation is refused with its code", arguments: HostileCatalogue.cases)
    func refused(hostile: HostileCase) {
        let forge = TokenForge()
        let (presentation, verifier) = hostile.build(forge)
        var trail = VerificationTrail()
        do {
            let access = try verifier.verify(presentation, trail: &trail)
            Issue.record("accepted: \(access.claims.tokenID)")
        } catch {
            #expect(error.code == hostile.expected, "\(error.reason)")
            #expect(trail.steps.last?.failure == hostile.expected)
        }
    }

    @Test("the catalogue holds at least 60 distinct attacks")
    func size() {
        #expect(HostileCatalogue.cases.count >= 60)
        #expect(Set(HostileCatalogue.cases.map(\.name)).count == HostileCatalogue.cases.count)
    }

    @Test("the catalogue covers every verification code but the authorization one")
    func coverage() {
        let covered = Set(HostileCatalogue.cases.map(\.expected))
        let expected = Set(VerificationError.Code.all).subtracting([.insufficientAuthorization])
        #expect(covered == expected)
    }
}
