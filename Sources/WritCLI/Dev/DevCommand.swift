public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ dev`: credentials for trying the broker out, signed by the development trust domain and
/// identity provider whose keys are in the state directory.
public struct DevCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Development credentials: workload and user assertions, DPoP proofs.",
        subcommands: [WorkloadTokenCommand.self, UserTokenCommand.self, DPoPProofCommand.self]
    )

    public init() {}
}

/// Options shared by the verbs that sign with development keys.
struct DevelopmentState: ParsableArguments {
    @Option(name: .long, help: "The broker's state directory.")
    var state = ProcessInfo.processInfo.environment["WRIT_STATE_DIR"] ?? ".writ"

    @Option(name: .long, help: "The audience the broker expects.")
    var audience = "writ"

    @Option(name: .long, help: "Lifetime in seconds.")
    var lifetime = 3600

    func key(_ name: String) throws -> SigningKey {
        let directory = StateDirectory(path: state)
        let path = directory.development.appendingPathComponent("\(name).pem").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("no development key at \(path): start the broker once (make run) to create it")
        }
        return try directory.developmentKey(named: name)
    }
}

/// `writ dev workload-token SPIFFE_ID`.
public struct WorkloadTokenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workload-token",
        abstract: "Print a JWT-SVID for a workload of the development trust domain.",
        discussion: """
            Example:
              writ dev workload-token spiffe://example.org/agents/coding-agent
            """
    )

    @Argument(help: "The workload's SPIFFE ID.")
    var spiffeID: String

    @OptionGroup var options: DevelopmentState

    public init() {}

    public func run() async throws {
        let id: SPIFFEID
        do {
            id = try SPIFFEID(spiffeID)
        } catch {
            throw CLIError("\(error)")
        }
        let token = try DevelopmentIdentity.workloadAssertion(
            for: id,
            audience: options.audience,
            key: try options.key(DevelopmentIdentity.workloadKeyName),
            now: Date(),
            lifetime: TimeInterval(options.lifetime)
        )
        print(token)
    }
}

/// `writ dev user-token SUBJECT --claim k=v`.
public struct UserTokenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "user-token",
        abstract: "Print an ID token for a user from the development identity provider.",
        discussion: """
            Example:
              writ dev user-token alice --claim email=alice@example.org --claim department=finance
            """
    )

    @Argument(help: "The user's subject (sub).")
    var subject: String

    @Option(name: .long, help: "A claim, NAME=VALUE (repeatable); groups=a,b makes a list.")
    var claim: [String] = []

    @OptionGroup var options: DevelopmentState

    public init() {}

    public func run() async throws {
        var claims: [String: JSONValue] = [:]
        for entry in claim {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw CLIError("--claim takes NAME=VALUE, not \(entry)")
            }
            let name = String(entry[..<equals])
            let value = String(entry[entry.index(after: equals)...])
            claims[name] =
                name == "groups" ? .array(value.split(separator: ",").map { .string(String($0)) }) : .string(value)
        }
        let token = try DevelopmentIdentity.userAssertion(
            subject: subject,
            claims: claims,
            audience: options.audience,
            key: try options.key(DevelopmentIdentity.userKeyName),
            now: Date(),
            lifetime: TimeInterval(options.lifetime)
        )
        print(token)
    }
}

/// `writ dev dpop-proof METHOD URL`.
public struct DPoPProofCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dpop-proof",
        abstract: "Print a DPoP proof (RFC 9449) made with a key file, creating the key if needed.",
        discussion: """
            Example:
              writ dev dpop-proof --key .writ/dev/agent-dpop.pem POST http://127.0.0.1:8080/v1/token
            """
    )

    @Option(name: .long, help: "The proof key (PEM); created, mode 0600, when missing.")
    var key: String

    @Option(name: .customLong("access-token"), help: "The access token the proof accompanies (sets ath).")
    var accessToken: String?

    @Argument(help: "The HTTP method.")
    var method: String

    @Argument(help: "The request URL.")
    var url: String

    public init() {}

    public func run() async throws {
        let privateKey: PrivateKey
        if let data = FileManager.default.contents(atPath: key) {
            privateKey = try PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
        } else {
            privateKey = .generate(.es256)
            try SecretFile.write(Array(privateKey.pemRepresentation.utf8), to: key)
        }
        print(
            try DPoPProof.create(method: method, url: url, key: privateKey, accessToken: accessToken, issuedAt: Date())
        )
    }
}
