public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ keys`: signing key management.
public struct KeysCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage signing keys.",
        subcommands: [GenerateKeyCommand.self]
    )

    public init() {}
}

/// `writ keys generate`: a new signing key and its JWKS.
public struct GenerateKeyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a signing key (PKCS#8 PEM, mode 0600) and its public JWKS.",
        discussion: """
            Writes DIR/signing-key.pem and DIR/jwks.json. The key id is the key's RFC 7638 thumbprint unless \
            --kid is given. An existing key is never overwritten.

            Example:
              writ keys generate --alg ES256 --out ./keys
            """
    )

    @Option(help: "ES256 (default) or EdDSA.")
    var alg: String = "ES256"

    @Option(help: "The directory to write to; created if missing.")
    var out: String

    @Option(help: "The key id; defaults to the key's thumbprint.")
    var kid: String?

    public init() {}

    public func run() async throws {
        try generate().finish()
    }

    /// Generates and writes the key.
    public func generate() throws -> CommandOutcome {
        guard let algorithm = SignatureAlgorithm(headerValue: alg) else {
            return CommandOutcome(output: "error: --alg must be ES256 or EdDSA", exitCode: WritExitCode.unusable)
        }
        let privateKey = PrivateKey.generate(algorithm)
        let key = SigningKey(id: kid ?? privateKey.publicKey.thumbprint, privateKey: privateKey)
        let files = FileManager.default
        let directory = URL(fileURLWithPath: out)
        let keyURL = directory.appendingPathComponent("signing-key.pem")
        let jwksURL = directory.appendingPathComponent("jwks.json")
        if files.fileExists(atPath: keyURL.path) {
            return CommandOutcome(
                output: "error: \(keyURL.path) exists; move it away or choose another --out",
                exitCode: WritExitCode.unusable
            )
        }
        do {
            try files.createDirectory(at: directory, withIntermediateDirectories: true)
            try SecretFile.write(Array(privateKey.pemRepresentation.utf8), to: keyURL.path)
            let jwks = try JSONWebKeySet(keys: [key.verificationKey])
            try Data((jwks.jsonString + "\n").utf8).write(to: jwksURL)
        } catch {
            return CommandOutcome(output: "error: cannot write to \(out): \(error)", exitCode: WritExitCode.unusable)
        }
        return CommandOutcome(
            output:
                "generated \(algorithm.rawValue) key \(key.id)\nprivate key  \(keyURL.path) (mode 0600)\njwks         \(jwksURL.path)",
            exitCode: WritExitCode.success
        )
    }
}
