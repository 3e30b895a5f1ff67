import Crypto
import Foundation
import WritBenchmarks
import WritToken
import WritVerifier

/// Where the time of one verification goes, stage by stage, on one core: the stages run in interleaved rounds,
/// like `verify`'s measurements, and the report gives each one's median.
struct VerifyBreakdown: Sendable {
    /// Seconds per stage and round.
    let seconds: Double
    /// Rounds per stage.
    let rounds: Int

    /// A plan.
    init(seconds: Double, rounds: Int = 5) {
        self.seconds = seconds
        self.rounds = rounds
    }

    /// Measures each stage and returns a report with microseconds per operation.
    func run() throws -> String {
        let key = SigningKey(id: "bench-1", privateKey: .generate(.es256))
        let claims = try BenchmarkToken.claims()
        let token = try AccessToken.sign(claims, with: key)
        let jws = try CompactJWS(token, maximumLength: AccessToken.maximumLength)
        let signature = try jws.signature(length: 64)
        let payload = Base64URL.decode(bytes: jws.payloadSegment)!
        let verifier = TokenVerifier(
            configuration: .init(issuer: claims.issuer, audience: claims.audience, cacheCapacity: 0),
            keys: try StaticKeySet([key.verificationKey]),
            // A resource server consults its revocation view on every request; so does the measurement.
            revocations: InMemoryRevocationView()
        )
        let view = InMemoryRevocationView()
        let presentation = Presentation(authorization: "Bearer " + token)
        let resource = Resource(type: "document", identifier: "hr/dept-42/handbook")
        let access = try verifier.verify(presentation, allowing: "read", on: resource)
        let verificationKey = key.verificationKey.publicKey
        guard case .p256(let publicKey) = verificationKey else { fatalError("the key is P-256") }
        let rawSignature = try P256.Signing.ECDSASignature(rawRepresentation: signature)
        let rawInput = Array(jws.signingInput)
        let now = Date()
        let stages: [(String, () -> Bool)] = [
            ("split (CompactJWS)", { (try? CompactJWS(token, maximumLength: 8192)) != nil }),
            ("payload base64url", { Base64URL.decode(bytes: jws.payloadSegment) != nil }),
            ("strict JSON tree (not used)", { (try? StrictJSON(maximumDepth: 16).parse(bytes: payload)) != nil }),
            ("claims from the bytes", { (try? AccessTokenClaims(jsonBytes: payload)) != nil }),
            ("revocation view", { view.status(of: claims, signedBy: "bench-1", now: now) == .notRevoked }),
            ("authorize", { access.permits("read", on: resource) }),
            (
                "signature as verify runs it",
                { verificationKey.isValidSignature(signature, for: jws.signingInput) }
            ),
            ("raw P-256 verify (yardstick)", { publicKey.isValidSignature(rawSignature, for: rawInput) }),
            ("verify+authorize", { (try? verifier.verify(presentation, allowing: "read", on: resource)) != nil }),
        ]
        var series = stages.map { Series(name: $0.0) }
        for _ in 0..<rounds {
            for (index, stage) in stages.enumerated() {
                series[index].rates.append(timedLoop(seconds: seconds, stage.1).rate)
            }
        }
        var lines = ["stage (median of \(rounds) interleaved rounds)   µs/op"]
        for measured in series {
            let name = measured.name.padding(toLength: 32, withPad: " ", startingAt: 0)
            lines.append(name + String(format: "%8.2f", 1e6 / measured.median))
        }
        return lines.joined(separator: "\n")
    }
}
