public import ArgumentParser
import Foundation
import WritAPI
import WritBroker
import WritToken

/// `writ keys`: signing key management.
public struct KeysCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage signing keys.",
        subcommands: [ListKeysCommand.self, RotateKeysCommand.self, GenerateKeyCommand.self]
    )

    public init() {}
}

/// `writ keys list`: the broker's signing keys and where each stands.
public struct ListKeysCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the broker's signing keys: active, pending (published, not signing yet), retiring "
            + "(published until its last token expires) and retired (admin API).",
        discussion: """
            Example:
              writ keys list
            """
    )

    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await connection.run { session throws(CommandOutcome) in
            let reply = try await session.get("/v1/admin/keys", as: SigningKeyListResponse.self)
            if connection.json { return .json(reply.json) }
            var table = Table("KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "RETIRES")
            for key in reply.value.keys {
                table.add(
                    key.kid,
                    key.alg,
                    key.state.rawValue,
                    Render.time(key.createdAt),
                    Render.time(key.activatesAt),
                    Render.time(key.retiredAt ?? key.retiresAt)
                )
            }
            return CommandOutcome(output: table.text, exitCode: 0)
        }
    }
}

/// `writ keys rotate`: a new signing key, published before it signs.
public struct RotateKeysCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Rotate the broker's signing key (admin API).",
        discussion: """
            The new key is published in the JWKS at once and signs only after tokens.key_publish_lead seconds \
            (600 by default, longer than verifiers' 300 s JWKS refresh), so no verifier meets a token signed by a \
            key it has not fetched. The old key stays published until the last token it can have signed has \
            expired, then retires. One rotation at a time: a second one before the new key signs is refused \
            (rotation_pending).

            If the signing key is compromised, --immediately makes the new key sign at once and drops the old \
            one from the JWKS at once: verifiers refuse everything it signed from their next JWKS refresh, valid \
            tokens included, so agents fetch new ones.

            Examples:
              writ keys rotate
              writ keys rotate --immediately     # the key leaked
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Sign with the new key now and drop the old one from the JWKS now (a compromised key).")
    var immediately = false

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        await connection.run { session throws(CommandOutcome) in
            let query = KeyRotationQuery(immediately: immediately ? true : nil)
            let reply = try await session.post("/v1/admin/keys/rotate" + query.query, as: KeyRotationResponse.self)
            if connection.json { return .json(reply.json) }
            let rotation = reply.value
            return CommandOutcome(
                output: """
                    new key      \(rotation.kid) (published now)
                    signs from   \(Render.time(rotation.activatesAt))
                    previous     \(rotation.previousKid) (published until \(Render.time(rotation.previousRetiresAt)))
                    """,
                exitCode: 0
            )
        }
    }
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
