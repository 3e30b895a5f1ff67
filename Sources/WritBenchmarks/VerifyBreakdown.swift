import Foundation
import WritToken
import WritVerifier

/// Where the time of one verification goes, stage by stage, on one core.
public struct VerifyBreakdown: Sendable {
    /// Seconds per stage.
    public let seconds: Double

    /// A plan.
    public init(seconds: Double) { self.seconds = seconds }

    /// Measures each stage and returns a report with microseconds per operation.
    public func run() throws -> String {
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
        let presentation = Presentation(authorization: "Bearer " + token)
        let resource = Resource(type: "document", identifier: "hr/dept-42/handbook")
        let stages: [(String, () -> Bool)] = [
            ("split (CompactJWS)", { (try? CompactJWS(token, maximumLength: 8192)) != nil }),
            ("payload base64url", { Base64URL.decode(bytes: jws.payloadSegment) != nil }),
            ("strict JSON parse only", { (try? StrictJSON().parse(bytes: payload)) != nil }),
            ("claims from JSON", { (try? AccessTokenClaims(jsonBytes: payload)) != nil }),
            ("signature (P-256)", { key.verificationKey.publicKey.isValidSignature(signature, for: jws.signingInput) }),
            ("verify+authorize", { (try? verifier.verify(presentation, allowing: "read", on: resource)) != nil }),
        ]
        var lines = ["stage                      µs/op"]
        for (name, body) in stages {
            let round = timedLoop(seconds: seconds, body)
            lines.append(String(format: "%-26@ %6.2f", name as NSString, 1e6 / round.rate))
        }
        return lines.joined(separator: "\n")
    }
}
