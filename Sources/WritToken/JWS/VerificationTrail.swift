/// A record of the checks one verification ran, in order, and how each ended. It holds no secret: no
/// token, no signature, no key material; only check names, outcomes and error codes.
public struct VerificationTrail: Sendable, Hashable, CustomStringConvertible {
    /// A check the verify path performs.
    public enum Check: String, Sendable, Hashable, CaseIterable {
        case size, segments, header, algorithm, type, key, signature, payload, claims
        /// The token's exact bytes verified earlier under a key still configured; signature and decoding reused.
        case cache
        case issuer, audience, lifetime
        case senderConstraint = "sender_constraint"
        case revocation, authorization
    }

    /// One check and its outcome.
    public struct Step: Sendable, Hashable {
        /// The check.
        public let check: Check
        /// Nil when it passed; otherwise the code it failed with.
        public let failure: VerificationError.Code?

        /// Whether the check passed.
        public var passed: Bool { failure == nil }

        /// A step with its outcome.
        public init(check: Check, failure: VerificationError.Code?) {
            self.check = check
            self.failure = failure
        }
    }

    /// Whether steps are recorded; a verifier on the hot path passes a trail that does not record.
    public let isRecording: Bool
    /// The steps, in the order they ran.
    public private(set) var steps: [Step] = []

    /// A trail that records every step.
    public init() { self.isRecording = true }

    private init(recording: Bool) { self.isRecording = recording }

    /// A trail that records nothing, for the hot path.
    public static var disabled: VerificationTrail { VerificationTrail(recording: false) }

    /// Records that a check passed.
    public mutating func passed(_ check: Check) {
        if isRecording { steps.append(Step(check: check, failure: nil)) }
    }

    /// Records that a check failed.
    public mutating func failed(_ check: Check, _ code: VerificationError.Code) {
        if isRecording { steps.append(Step(check: check, failure: code)) }
    }

    /// Runs a check, recording its outcome.
    @inline(__always)
    public mutating func run<T>(
        _ check: Check,
        _ body: () throws(VerificationError) -> T
    ) throws(VerificationError) -> T {
        do {
            let result = try body()
            passed(check)
            return result
        } catch {
            failed(check, error.code)
            throw error
        }
    }

    public var description: String {
        steps.map { step in
            step.passed ? "\(step.check.rawValue): ok" : "\(step.check.rawValue): \(step.failure!.rawValue)"
        }.joined(separator: "\n")
    }
}
