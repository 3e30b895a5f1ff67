import Crypto
import Foundation
import JWTKit
import WritBenchmarks
import WritToken
import WritVerifier

/// `writ-bench verify`: raw P-256 verify, Writ verify+authorize and jwt-kit ES256 verify, side by side
/// on one core, interleaved round by round, then Writ on two cores.
struct VerifyBenchmark: Sendable {
    /// Seconds per round of each measurement.
    let seconds: Double
    /// Rounds per measurement.
    let rounds: Int
    /// Threads for the multi-core run.
    let threads: Int

    /// A benchmark plan.
    init(seconds: Double, rounds: Int = 5, threads: Int = 2) {
        self.seconds = seconds
        self.rounds = rounds
        self.threads = threads
    }

    /// The measured series and the report.
    struct Result: Sendable {
        /// Raw swift-crypto P-256 signature verification of the token's signing input.
        let raw: Series
        /// Writ `verify(_:allowing:on:)` of the token, one core.
        let writ: Series
        /// jwt-kit 5.8.0 `verify(_:as:)` of the same token with an expiry and audience check, one core.
        let jwtKit: Series
        /// Writ on ``VerifyBenchmark/threads`` cores at once.
        let writParallel: Series
        /// Writ verifying a token it has verified before (the signature is not checked again), one core.
        let writWarm: Series
        /// ``writ`` with usage reporting on (a `UsageRecorder` given to the verifier).
        let writReporting: Series
        /// ``writWarm`` with usage reporting on.
        let writWarmReporting: Series
        /// How large the token is, in bytes.
        let tokenBytes: Int
        /// Threads used for ``writParallel``.
        let threads: Int

        /// A plain-text report with medians and ratios.
        var report: String {
            func row(_ series: Series) -> String {
                let rates = series.rates.map { String(format: "%.0f", $0) }.joined(separator: " ")
                let name = series.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                return name + String(format: "%8.0f/s  %7.2f µs   rounds: ", series.median, 1e6 / series.median) + rates
            }
            func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }
            return """
                token: ES256 at+jwt, \(tokenBytes) bytes; \(raw.rates.count) interleaved rounds per measurement; medians
                \(row(raw))
                \(row(writ))
                \(row(jwtKit))
                \(row(writParallel))
                \(row(writWarm))
                \(row(writReporting))
                \(row(writWarmReporting))
                Writ time / raw verify time (1 core):     \(ratio(raw.median / writ.median))   (target ≤ 1.10)
                Writ \(threads) cores / Writ 1 core:              \(ratio(writParallel.median / writ.median))   (target ≥ 1.8)
                Writ / jwt-kit (1 core, every token new): \(ratio(writ.median / jwtKit.median))   (target ≥ 1.8)
                Writ / jwt-kit (1 core, repeated token):  \(ratio(writWarm.median / jwtKit.median))
                jwt-kit time / raw verify time:           \(ratio(raw.median / jwtKit.median))
                usage recorded / not (every token new):   \(ratio(writReporting.median / writ.median))   (target ≥ 0.97)
                usage recorded / not (repeated token):    \(ratio(writWarmReporting.median / writWarm.median))   (target ≥ 0.97)
                """
        }
    }

    struct Payload: JWTPayload {
        let iss: IssuerClaim
        let sub: SubjectClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        let iat: IssuedAtClaim
        let jti: IDClaim
        let client_id: String
        let txn: String

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try aud.verifyIntendedAudience(includes: "https://docs.writ.test")
        }
    }

    /// Runs the plan.
    func run() async throws -> Result {
        let key = SigningKey(id: "bench-1", privateKey: .generate(.es256))
        let issuer = BenchmarkToken.issuer
        let audience = BenchmarkToken.audience
        let claims = try BenchmarkToken.claims()
        let token = try AccessToken.sign(claims, with: key)
        // Cold: the cache is off, so every verification checks the signature.
        let verifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience, cacheCapacity: 0),
            keys: try StaticKeySet([key.verificationKey]),
            // A resource server consults its revocation view on every request; so does the measurement.
            revocations: InMemoryRevocationView()
        )
        // Warm: the same token presented again, as on every request of a task.
        let cachingVerifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience),
            keys: try StaticKeySet([key.verificationKey]),
            // A resource server consults its revocation view on every request; so does the measurement.
            revocations: InMemoryRevocationView()
        )
        // The same two, recording every allowed use for the broker (a report takes the records each round).
        let recorder = UsageRecorder(audience: audience)
        let reportingVerifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience, cacheCapacity: 0),
            keys: try StaticKeySet([key.verificationKey]),
            revocations: InMemoryRevocationView(),
            usage: recorder
        )
        let cachingReportingVerifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience),
            keys: try StaticKeySet([key.verificationKey]),
            revocations: InMemoryRevocationView(),
            usage: recorder
        )
        let presentation = Presentation(authorization: "Bearer " + token)
        let resource = Resource(type: "document", identifier: "hr/dept-42/handbook")

        guard case .p256(let privateKey) = key.privateKey else { fatalError("the benchmark key is P-256") }
        let publicKey = privateKey.publicKey
        let jws = try CompactJWS(token, maximumLength: AccessToken.maximumLength)
        let signingInput = Array(jws.signingInput)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: jws.signature(length: 64))

        let collection = JWTKeyCollection()
        await collection.add(ecdsa: try ES256PublicKey(pem: publicKey.pemRepresentation), kid: "bench-1")
        _ = try await collection.verify(token, as: Payload.self)
        _ = try verifier.verify(presentation, allowing: "read", on: resource)

        let writOnce: @Sendable () -> Bool = {
            (try? verifier.verify(presentation, allowing: "read", on: resource)) != nil
        }
        var raw = Series(name: "swift-crypto P-256 verify (raw)")
        var writ = Series(name: "Writ verify+authorize")
        var jwtKit = Series(name: "jwt-kit 5.8.0 ES256 verify")
        var parallel = Series(name: "Writ verify+authorize, \(threads) cores")
        var warm = Series(name: "Writ, same token again (cache hit)")
        let warmOnce: @Sendable () -> Bool = {
            (try? cachingVerifier.verify(presentation, allowing: "read", on: resource)) != nil
        }
        var reporting = Series(name: "Writ verify+authorize, usage recorded")
        var warmReporting = Series(name: "Writ, same token again, usage recorded")
        let reportingOnce: @Sendable () -> Bool = {
            (try? reportingVerifier.verify(presentation, allowing: "read", on: resource)) != nil
        }
        let warmReportingOnce: @Sendable () -> Bool = {
            (try? cachingReportingVerifier.verify(presentation, allowing: "read", on: resource)) != nil
        }
        for _ in 0..<rounds {
            reporting.rates.append(timedLoop(seconds: seconds, reportingOnce).rate)
            warmReporting.rates.append(timedLoop(seconds: seconds, warmReportingOnce).rate)
            _ = recorder.take()
            raw.rates.append(
                timedLoop(seconds: seconds) { publicKey.isValidSignature(signature, for: signingInput) }.rate
            )
            writ.rates.append(timedLoop(seconds: seconds, writOnce).rate)
            jwtKit.rates.append(
                await timedLoop(seconds: seconds) { (try? await collection.verify(token, as: Payload.self)) != nil }
                    .rate
            )
            parallel.rates.append(parallelLoop(threads: threads, seconds: seconds, writOnce).rate)
            warm.rates.append(timedLoop(seconds: seconds, warmOnce).rate)
        }
        return Result(
            raw: raw,
            writ: writ,
            jwtKit: jwtKit,
            writParallel: parallel,
            writWarm: warm,
            writReporting: reporting,
            writWarmReporting: warmReporting,
            tokenBytes: token.utf8.count,
            threads: threads
        )
    }
}
