import Foundation
import WritPolicy
import WritToken

let request = PolicyRequest(
    workload: WorkloadIdentity(id: try! SPIFFEID("spiffe://example.org/agents/retrieval"), attestation: .jwtSVID),
    user: UserClaims(claims: ["sub": .string("alice"), "department": .string("hr"), "email": .string("a@example.org")]),
    taskType: "answer-question",
    authorizationDetails: [
        AuthorizationDetail(
            type: "document",
            actions: ["read"],
            locations: ["https://docs.example.org"],
            identifier: "departments/hr/handbook"
        ),
        AuthorizationDetail(
            type: "refund",
            actions: ["create"],
            identifier: "customers/1",
            extensions: ["amount": .integer(7)]
        ),
    ]
)

/// Feeds one input to the policy loader (as a policy file), the request reader and the test-file reader.
/// Diagnostics are expected; a crash, a trap or a hang is a finding. A set that loads is also evaluated,
/// explained and mapped.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if case .success(let policies) = PolicyLoader.load(sources: [("fuzz.yaml", text)]) {
        _ = policies.evaluate(request)
        _ = Explanation(request: request, policies: policies).text
        _ = SegmentationGraph(policies: policies).dot
    }
    _ = try? RequestReader.request(from: text, file: "fuzz.json")
    _ = try? PolicyTestRunner.tests(in: text, file: "fuzz-test.yaml")
    return 0
}
