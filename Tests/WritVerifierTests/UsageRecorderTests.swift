import Foundation
import Testing
import WritAPI
import WritTestSupport
import WritToken
import WritVerifier

/// Usage reporting at the verifier: what is allowed and refused, counted, bounded, never in the way.
@Suite("usage recording")
struct UsageRecorderTests {
    let forge = TokenForge()
    static let handbook = Resource(type: "document", identifier: "hr/dept-42/handbook")
    static let payroll = Resource(type: "document", identifier: "finance/payroll")

    func sorted(_ report: UsageReport) -> [UsageRecord] {
        report.records.sorted { ($0.outcome, $0.identifier ?? "") < ($1.outcome, $1.identifier ?? "") }
    }

    @Test("allowed uses and refusals are counted per task, token, action, resource and outcome")
    func counts() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience)
        let verifier = forge.verifier(usage: recorder)
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        for _ in 0..<3 { _ = try verifier.verify(presentation, allowing: "read", on: Self.handbook) }
        for _ in 0..<2 {
            #expect(throws: VerificationError.insufficientAuthorization("")) {
                try verifier.verify(presentation, allowing: "read", on: Self.payroll)
            }
        }
        let records = sorted(recorder.take())
        #expect(records.map(\.outcome) == ["allowed", "insufficient_authorization"])
        #expect(records.map(\.count) == [3, 2])
        #expect(
            records.allSatisfy { $0.task == TestIdentity.taskID && $0.workload == TestIdentity.workload.description }
        )
        #expect(records.map(\.identifier) == [Self.handbook.identifier, Self.payroll.identifier])
        #expect(records.allSatisfy { $0.first == 1_800_000_000 && $0.last == 1_800_000_000 && $0.action == "read" })
        #expect(recorder.take().records.isEmpty)
    }

    @Test("a refusal after the token was read names it; one before names nothing of it")
    func refusals() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience)
        let verifier = forge.verifier(usage: recorder)
        var other = TestIdentity.claims()
        other.audience = "https://elsewhere.writ.test"
        _ = try? verifier.verify(
            Presentation(authorization: "Bearer " + forge.token(other)),
            allowing: "read",
            on: Self.handbook
        )
        _ = try? verifier.verify(Presentation(authorization: "Bearer not.a.token"), allowing: "read", on: Self.handbook)
        let records = sorted(recorder.take())
        #expect(records.map(\.outcome) == ["malformed", "wrong_audience"])
        #expect(records[0].task == nil && records[0].token == nil && records[0].identifier == Self.handbook.identifier)
        #expect(records[1].task == TestIdentity.taskID)
    }

    @Test("past its capacity new records are dropped and counted, known ones still count")
    func bounded() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience, capacity: 2)
        let verifier = forge.verifier(usage: recorder)
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        for index in 0..<5 {
            _ = try? verifier.verify(
                presentation,
                allowing: "read",
                on: Resource(type: "document", identifier: "x/\(index)")
            )
        }
        _ = try? verifier.verify(presentation, allowing: "read", on: Resource(type: "document", identifier: "x/0"))
        let report = recorder.take()
        #expect(report.records.count == 2 && report.dropped == 3)
        #expect(report.records.map(\.count).reduce(0, +) == 3)
    }

    @Test("a report that could not be sent is merged back, and what no longer fits is counted as dropped")
    func restore() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience, capacity: 2)
        let verifier = forge.verifier(usage: recorder)
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        _ = try verifier.verify(presentation, allowing: "read", on: Self.handbook)
        let unsent = recorder.take()
        _ = try verifier.verify(presentation, allowing: "read", on: Self.handbook)
        _ = try? verifier.verify(presentation, allowing: "read", on: Self.payroll)
        _ = try? verifier.verify(presentation, allowing: "write", on: Self.payroll)
        recorder.restore(unsent)
        let report = recorder.take()
        #expect(report.records.count == 2 && report.dropped == 1)
        #expect(report.records.first { $0.outcome == "allowed" }?.count == 2)
    }

    @Test("interleaved uses are counted apart, repeated ones together, and counts stop at the wire's limit")
    func interleaved() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience)
        let verifier = forge.verifier(usage: recorder)
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        let other = Resource(type: "document", identifier: "hr/dept-42/policies/leave")
        for resource in [Self.handbook, Self.handbook, other, Self.handbook, other, other, other] {
            _ = try verifier.verify(presentation, allowing: "read", on: resource)
        }
        #expect(recorder.pending == 2)
        let counts = Dictionary(uniqueKeysWithValues: recorder.take().records.map { ($0.identifier ?? "", $0.count) })
        #expect(counts == [Self.handbook.identifier!: 3, other.identifier!: 4])
        #expect(UsageRecorder.sum(1 << 30, 5) == 1 << 30)
    }

    @Test("long identifiers are cut; the report survives the wire")
    func wire() throws {
        let recorder = UsageRecorder(audience: TestIdentity.audience)
        let verifier = forge.verifier(usage: recorder)
        let presentation = Presentation(authorization: "Bearer " + forge.token())
        let long = Resource(type: "document", identifier: String(repeating: "a", count: 1000))
        _ = try? verifier.verify(presentation, allowing: "read", on: long)
        let report = recorder.take()
        #expect(report.records[0].identifier?.count == UsageRecorder.maximumIdentifierLength)
        #expect(try UsageReport(requestBody: report.bytes) == report)
    }

    @Test("without a recorder nothing is recorded and verification is unchanged")
    func off() throws {
        let verifier = forge.verifier()
        #expect(verifier.usage == nil)
        _ = try verifier.verify(
            Presentation(authorization: "Bearer " + forge.token()),
            allowing: "read",
            on: Self.handbook
        )
    }
}
