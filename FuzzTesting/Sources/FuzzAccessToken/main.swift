import Foundation
import WritToken

// A fixed key set: seeds in Corpus/AccessToken are signed by this key, so the fuzzer reaches the claims.
let seedKey = try! PrivateKey(
    pemRepresentation: """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeblUzWaIol75h3Jj
        eCOb/XmxiWb851dqqtIRg9MUqo6hRANCAAQydurbE9Du6C2H16WWmGXWTM/PSmbr
        Kc0+kT3lI8SrFdacgadcewM+IfxWKxkmwl9QtjsIlUuSMcLr45b1P1Mq
        -----END PRIVATE KEY-----
        """
)
let keys = [
    "fuzz-es": VerificationKey(id: "fuzz-es", publicKey: seedKey.publicKey),
    "fuzz-ed": VerificationKey(id: "fuzz-ed", publicKey: PrivateKey.generate(.edDSA).publicKey),
]

/// Feeds one input to every parser an attacker reaches with a token: the verify path, the claims decoder
/// on the raw payload, strict JSON, base64url, SPIFFE IDs and JWKS documents. Errors are expected; a crash,
/// a trap or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAccessToken(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    var trail = VerificationTrail()
    _ = try? AccessToken.decodeVerified(text, trail: &trail) { keys[$0] }
    _ = try? AccessToken.unverifiedClaims(text)
    if let value = try? StrictJSON().parse(bytes) {
        _ = try? AccessTokenClaims(json: value)
        _ = try? Revocation(json: value)
        _ = JSONWriter.bytes(value)
    }
    _ = try? JSONWebKeySet(jsonBytes: bytes)
    if let decoded = Base64URL.decode(bytes: bytes) {
        precondition(Base64URL.encode(decoded) == text, "base64url is not canonical")
    }
    _ = try? SPIFFEID(text)
    return 0
}
