public import ArgumentParser
import Foundation
import WritToken
import WritVerifier

/// `writ verify`: checks one access token offline, as a resource server would.
public struct VerifyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an access token against a JWKS, an issuer and an audience.",
        discussion: """
            Prints `valid` and the claims, or `rejected: CODE` and the reason. Exits 0 only when the token is \
            valid, 1 when it is rejected, 2 when the inputs cannot be used.

            Examples:
              writ verify --jwks state/jwks.json --issuer https://broker.example --audience https://docs.example TOKEN
              echo "$TOKEN" | writ verify --jwks jwks.json --issuer ISS --audience AUD --at 1800000000 -
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

    public init() {}

    public func run() async throws {
        try evaluate(readStandardInput: {
            String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) ?? ""
        }).finish()
    }

    /// Verifies the token and renders the result.
    public func evaluate(readStandardInput: () -> String) throws -> CommandOutcome {
        let jwksData: Data
        do {
            jwksData = try Data(contentsOf: URL(fileURLWithPath: jwks))
        } catch {
            return CommandOutcome(
                output: "error: cannot read the JWKS file \(jwks); check the path",
                exitCode: WritExitCode.unusable
            )
        }
        let keySet: JSONWebKeySet
        do {
            keySet = try JSONWebKeySet(jsonBytes: Array(jwksData))
        } catch {
            return CommandOutcome(
                output: "error: \(jwks) is not a usable JWKS: \(error.reason)",
                exitCode: WritExitCode.unusable
            )
        }
        let text = (token == "-" ? readStandardInput() : token).trimmingCharacters(in: .whitespacesAndNewlines)
        let authorization = (dpopProof == nil ? "Bearer " : "DPoP ") + text
        let clock: any WritClock = at.map { FixedClock(Date(timeIntervalSince1970: TimeInterval($0))) } ?? SystemClock()
        let verifier = TokenVerifier(
            configuration: .init(issuer: issuer, audience: audience),
            keys: StaticKeySet(keySet),
            clock: clock
        )
        var steps = VerificationTrail()
        let presentation = Presentation(
            authorization: authorization,
            dpopProof: dpopProof,
            method: method,
            url: url ?? audience
        )
        do {
            let access = try verifier.verify(presentation, trail: &steps)
            var lines = ["valid", ClaimsRenderer.render(access.claims)]
            if trail { lines.append(steps.description) }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: WritExitCode.success)
        } catch {
            var lines = ["rejected: \(error.code.rawValue)", "reason: \(error.reason)"]
            if trail { lines.append(steps.description) }
            return CommandOutcome(output: lines.joined(separator: "\n"), exitCode: WritExitCode.rejected)
        }
    }
}
