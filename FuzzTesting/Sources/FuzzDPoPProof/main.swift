import Foundation
import WritToken

/// Feeds one input to the DPoP proof verifier and the URI normaliser. Errors are expected; a crash, a trap or a
/// hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDPoPProof(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? DPoPProof.verify(
        text,
        method: "POST",
        url: "https://server.example.com/token",
        accessToken: String?.none,
        now: Date(timeIntervalSince1970: 1_562_262_616)
    )
    _ = try? DPoPProof.verify(
        text,
        method: "GET",
        url: "https://docs.writ.test/documents/1",
        accessToken: "token",
        validNonces: ["n"],
        now: Date(timeIntervalSince1970: 1_800_000_000)
    )
    if let normal = HTTPURI.normalized(text) {
        precondition(HTTPURI.normalized(normal) == normal, "URI normalisation is not idempotent")
    }
    return 0
}
