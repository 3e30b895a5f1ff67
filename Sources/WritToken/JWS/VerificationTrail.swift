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
        /// Nil when it passed or did not run; otherwise the code it failed with.
        public let failure: VerificationError.Code?
        /// Why the check did not run (a verifier with no revocation source, for one); nil when it ran.
        public let notCheckedBecause: String?

        /// Whether the check ran and passed; a check that did not run did not pass.
        public var passed: Bool { failure == nil && notCheckedBecause == nil }

        /// A step with its outcome.
        public init(check: Check, failure: VerificationError.Code?, notCheckedBecause: String? = nil) {
            self.check = check
            self.failure = failure
            self.notCheckedBecause = notCheckedBecause
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

    /// Records that a check did not run, and why, so the trail never shows a check it did not make as passed.
    public mutating func notChecked(_ check: Check, because reason: String) {
        if isRecording { steps.append(Step(check: check, failure: nil, notCheckedBecause: reason)) }
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
            let outcome = step.failure?.rawValue ?? step.notCheckedBecause.map { "not checked (\($0))" } ?? "ok"
            return "\(step.check.rawValue): \(outcome)"
        }.joined(separator: "\n")
    }
}
