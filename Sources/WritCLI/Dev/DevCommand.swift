public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ dev`: credentials for trying the broker out, signed by the development trust domain and
/// identity provider whose keys are in the state directory.
public struct DevCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Development credentials: workload and user assertions, X.509-SVIDs, DPoP proofs.",
        subcommands: [WorkloadTokenCommand.self, UserTokenCommand.self, SVIDCommand.self, DPoPProofCommand.self]
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

/// `writ dev svid SPIFFE_ID --out DIR`.
public struct SVIDCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "svid",
        abstract: "Write an X.509-SVID (key and certificate) signed by the development CA, and the CA bundle.",
        discussion: """
            Writes DIR/svid.pem (the certificate), DIR/svid-key.pem (mode 0600) and DIR/bundle.pem (the
            development CA, which also signs the broker's TLS certificate). Example:
              writ dev svid spiffe://example.org/agents/coding-agent --out .writ/dev/coder
              curl --cert .writ/dev/coder/svid.pem --key .writ/dev/coder/svid-key.pem \\
                --cacert .writ/dev/coder/bundle.pem https://127.0.0.1:8443/healthz
            """
    )

    @Argument(help: "The workload's SPIFFE ID.")
    var spiffeID: String

    @Option(name: .long, help: "The directory to write to (created if needed).")
    var out: String

    @Option(name: .long, help: "The broker's state directory.")
    var state = ProcessInfo.processInfo.environment["WRIT_STATE_DIR"] ?? ".writ"

    @Option(name: .long, help: "Lifetime in seconds.")
    var lifetime = 86_400

    public init() {}

    public func run() async throws {
        let id: SPIFFEID
        do {
            id = try SPIFFEID(spiffeID)
        } catch {
            throw CLIError("\(error)")
        }
        let directory = StateDirectory(path: state)
        let caFile = directory.development.appendingPathComponent("ca.pem").path
        guard FileManager.default.fileExists(atPath: caFile) else {
            throw CLIError("no development CA at \(caFile): start the broker once (make run) to create it")
        }
        let ca = try DevelopmentCA.loadOrCreate(in: directory, trustDomain: id.trustDomain, now: Date())
        let (certificate, key) = try ca.issue(for: id, now: Date(), lifetime: TimeInterval(lifetime))
        let output = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let keyFile = output.appendingPathComponent("svid-key.pem").path
        try? FileManager.default.removeItem(atPath: keyFile)
        try SecretFile.write(Array(key.utf8), to: keyFile)
        try DevelopmentCA.pem(certificate).write(
            to: output.appendingPathComponent("svid.pem"),
            atomically: true,
            encoding: .utf8
        )
        try DevelopmentCA.pem(ca.certificate).write(
            to: output.appendingPathComponent("bundle.pem"),
            atomically: true,
            encoding: .utf8
        )
        print("wrote \(out)/svid.pem, \(out)/svid-key.pem and \(out)/bundle.pem for \(id)")
    }
}
