public import ArgumentParser
import Foundation
import WritToken
import WritVerifier

/// `writ verify`: checks one access token as a resource server would: offline, or also against the broker's
/// revocation feed with `--broker`.
public struct VerifyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an access token against a JWKS, an issuer and an audience.",
        discussion: """
            Prints `valid` and the claims, or `rejected: CODE` and the reason. Exits 0 only when the token is \
            valid, 1 when it is rejected, 2 when the inputs cannot be used, 3 when the broker cannot be reached.

            Without --broker nothing is asked of anyone, so a revoked token still verifies: the output says \
            `revocation not checked (offline)`. With --broker the broker's whole revocation feed is read first, \
            with the operator token found as for every operator verb, and the token is checked against it.

            Examples:
              writ verify --jwks state/jwks.json --issuer https://broker.example --audience https://docs.example TOKEN
              echo "$TOKEN" | writ verify --jwks jwks.json --issuer ISS --audience AUD --at 1800000000 -
              writ verify --broker https://broker.example --jwks jwks.json --issuer ISS --audience AUD TOKEN
            """
    )

    @Option(help: "A JWKS file holding the issuer's public keys.")
    var jwks: String

    @Option(help: "The issuer the token must come from.")
    var issuer: String

    @Option(help: "The audience (this resource server) the token must be for.")
    var audience: String

    @Option(help: "Verify as of this UNIX time instead of now.")
    var at: Int64?

    @Option(help: "A DPoP proof, for a DPoP-bound token.")
    var dpopProof: String?

    @Option(help: "The request method the proof is for.")
    var method: String = "GET"

    @Option(help: "The request URL the proof is for.")
    var url: String?

    @Flag(help: "Print every check the verifier ran.")
    var trail = false

    @Argument(help: "The token, or - to read it from standard input.")
    var token: String

    /// `--broker` (whose revocation feed to check against) and the operator token to read it with; `--json`.
    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        try await evaluate(readStandardInput: {
            String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) ?? ""
        }).finish()
    }

    /// Verifies the token and renders the result: offline, or with `--broker` against the broker's feed (with the
    /// operator token found in `environment`, the process's own when nil).
    public func evaluate(
        environment: [String: String]? = nil,
        readStandardInput: () -> String
    ) async -> CommandOutcome {
        let keySet: JSONWebKeySet
        do { keySet = try readKeySet() } catch { return error }
        let text = (token == "-" ? readStandardInput() : token).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let broker = connection.broker else {
            // Only --broker makes the check online: WRIT_BROKER or the CLI file alone must not send anything.
            return verify(text, keys: keySet, revocations: nil, source: nil)
        }
        let client: AdminClient
        do {
            client = try connection.resolve(environment: environment ?? ProcessInfo.processInfo.environment)
        } catch { return error }
        return await client.run { session throws(CommandOutcome) in
            let view = try await RevocationFeedReader.view(session, now: Date())
            return verify(text, keys: keySet, revocations: view, source: broker)
        }
    }

    private func readKeySet() throws(CommandOutcome) -> JSONWebKeySet {
        let jwksData: Data
        do {
            jwksData = try Data(contentsOf: URL(fileURLWithPath: jwks))
        } catch {
            throw CommandOutcome.unusable("cannot read the JWKS file \(jwks); check the path")
        }
        do {
            return try JSONWebKeySet(jsonBytes: Array(jwksData))
        } catch {
            throw CommandOutcome.unusable("\(jwks) is not a usable JWKS: \(error.reason)")
        }
    }

    /// Verifies; with no revocation view the verifier's trail says revocation was not checked.
    private func verify(
        _ text: String,
        keys: JSONWebKeySet,
        revocations: (any RevocationView)?,
        source: String?
    ) -> CommandOutcome {
        let authorization = (dpopProof == nil ? "Bearer " : "DPoP ") + text
        let clock: any WritClock = at.map { FixedClock(Date(timeIntervalSince1970: TimeInterval($0))) } ?? SystemClock()
        let verifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience),
            keys: StaticKeySet(keys),
            revocations: revocations,
            clock: clock
        )
        var steps = VerificationTrail()
        let presentation = Presentation(
            authorization: authorization,
            dpopProof: dpopProof,
            method: method,
            url: url ?? audience
        )
        // Said with every valid answer, not only in the trail: "valid" alone would vouch for a revoked token.
        let revocation =
            source.map { "revocation checked against the feed of \($0)" }
            ?? "revocation not checked (offline): pass --broker URL to check the broker's feed"
        do {
            let access = try verifier.verify(presentation, trail: &steps)
            if connection.json {
                return .json(Self.json(claims: access.claims, error: nil, trail: steps, source: source))
            }
            var lines = ["valid", ClaimsRenderer.render(access.claims), revocation]
            if trail { lines.append(steps.description) }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: WritExitCode.success)
        } catch {
            if connection.json {
                var outcome = CommandOutcome.json(Self.json(claims: nil, error: error, trail: steps, source: source))
                outcome.exitCode = WritExitCode.rejected
                return outcome
            }
            var lines = ["rejected: \(error.code.rawValue)", "reason: \(error.reason)"]
            if trail { lines.append(steps.description) }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: WritExitCode.rejected)
        }
    }

    /// The result for scripts: valid or not, the claims or the refusal, whether revocation was checked and
    /// against which broker, and every check with its outcome.
    static func json(
        claims: AccessTokenClaims?,
        error: VerificationError?,
        trail: VerificationTrail,
        source: String?
    ) -> JSONValue {
        var members: [String: JSONValue] = [
            "valid": .bool(error == nil),
            "revocation_checked": .bool(source != nil),
            "trail": .array(
                trail.steps.map { step in
                    let outcome = step.failure?.rawValue ?? (step.notCheckedBecause == nil ? "ok" : "not_checked")
                    return .object(["check": .string(step.check.rawValue), "outcome": .string(outcome)])
                }
            ),
        ]
        if let source { members["broker"] = .string(source) }
        if let claims { members["claims"] = claims.json }
        if let error {
            members["error"] = .string(error.code.rawValue)
            members["reason"] = .string(error.reason)
        }
        return .object(members)
    }
}
