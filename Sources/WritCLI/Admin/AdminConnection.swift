public import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import WritAPI
import WritToken
import WritVerifier
import Yams

/// Where the broker is and which operator token to present: flags first, then `WRIT_BROKER` and
/// `WRIT_OPERATOR_TOKEN` / `WRIT_OPERATOR_TOKEN_FILE`, then the CLI configuration file, then the embedded
/// defaults (`http://127.0.0.1:8080` and the first operator's token in `./.writ/operator-token`).
public struct ConnectionOptions: ParsableArguments {
    @Option(help: "The broker's base URL (or WRIT_BROKER).")
    var broker: String?

    @Option(
        name: .customLong("token-file"),
        help: "A file holding the operator token (or WRIT_OPERATOR_TOKEN, WRIT_OPERATOR_TOKEN_FILE)."
    )
    var tokenFile: String?

    @Option(
        name: .customLong("cli-config"),
        help: "The CLI configuration file (or WRIT_CLI_CONFIG; default ~/.config/writ/cli.yaml)."
    )
    var cliConfig: String?

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false

    @Option(help: "Seconds to wait for the broker.")
    var timeout: Int = 30

    @Flag(help: "Allow sending the operator token over plain http to a host other than this one.")
    var insecureHTTP = false

    public init() {}

    /// The resolved broker URL and token, or an outcome saying what to fix.
    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CommandOutcome)
        -> AdminClient
    {
        let file = try configurationFile(environment: environment)
        var base = broker ?? environment["WRIT_BROKER"] ?? file.broker ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        switch PlainHTTPPolicy.verdict(for: base) {
        case .encrypted, .loopback: break
        case .plainToOtherHost(let host):
            guard insecureHTTP else {
                throw CommandOutcome.unusable(
                    "\(base) is plain http to \(host), which is not this machine (127.0.0.0/8, [::1], localhost): "
                        + "the operator token would cross the network in clear; use the broker's https address, "
                        + "or pass --insecure-http if the path is protected otherwise"
                )
            }
        case .refused(let refusal):
            throw CommandOutcome.unusable("the broker address \(base) is refused: \(refusal)")
        }
        guard timeout >= 1 else { throw CommandOutcome.unusable("--timeout must be at least 1 second") }
        let token: String
        let source: String
        if let path = tokenFile {
            (token, source) = (try Self.readToken(path), "--token-file \(path)")
        } else if let path = environment["WRIT_OPERATOR_TOKEN_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            (token, source) = (try Self.readToken(path), "WRIT_OPERATOR_TOKEN_FILE=\(path)")
        } else if let value = environment["WRIT_OPERATOR_TOKEN"], !value.isEmpty {
            (token, source) = (try Self.tokenFromEnvironment(value), "WRIT_OPERATOR_TOKEN")
        } else if let path = file.tokenFile {
            (token, source) = (try Self.readToken(path), "token_file \(path) in \(file.path)")
        } else if FileManager.default.fileExists(atPath: ".writ/operator-token") {
            (token, source) = (try Self.readToken(".writ/operator-token"), "./.writ/operator-token")
        } else {
            throw CommandOutcome.unusable(
                "no operator token: pass --token-file FILE, set WRIT_OPERATOR_TOKEN_FILE or WRIT_OPERATOR_TOKEN, "
                    + "or name token_file in ~/.config/writ/cli.yaml (./.writ/operator-token, looked at too, does "
                    + "not exist; the broker writes its first token to STATE/operator-token)"
            )
        }
        return AdminClient(base: base, token: token, tokenSource: source, timeout: .seconds(Int64(timeout)))
    }

    /// `WRIT_OPERATOR_TOKEN` holds the token itself; a path there is the usual slip, and gets told apart.
    static func tokenFromEnvironment(_ value: String) throws(CommandOutcome) -> String {
        let token = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.hasPrefix("wop_") else { return token }
        if token.contains("/") || token.hasPrefix("~") || FileManager.default.fileExists(atPath: token) {
            throw CommandOutcome.unusable(
                "WRIT_OPERATOR_TOKEN holds the operator token itself, and \(token) looks like a file's path: set "
                    + "WRIT_OPERATOR_TOKEN_FILE=\(token) (or pass --token-file \(token)) instead"
            )
        }
        // Not echoed: it may be some other secret pasted by mistake.
        throw CommandOutcome.unusable(
            "WRIT_OPERATOR_TOKEN does not hold an operator token (they start with wop_); put the token itself there, "
                + "or a file holding it in WRIT_OPERATOR_TOKEN_FILE"
        )
    }

    /// Resolves the broker and token and runs `body` with a connection; every failure becomes an outcome.
    func run(_ body: (AdminClient.Session) async throws(CommandOutcome) -> CommandOutcome) async -> CommandOutcome {
        let client: AdminClient
        do { client = try resolve() } catch { return error }
        return await client.run(body)
    }

    private struct FileSettings {
        var broker: String?
        var tokenFile: String?
        var path = ""
    }

    private func configurationFile(environment: [String: String]) throws(CommandOutcome) -> FileSettings {
        let explicit = cliConfig ?? environment["WRIT_CLI_CONFIG"]
        let path =
            explicit
            ?? environment["HOME"].map { $0 + "/.config/writ/cli.yaml" } ?? ""
        guard !path.isEmpty, let data = FileManager.default.contents(atPath: path) else {
            if let explicit { throw CommandOutcome.unusable("cannot read the CLI configuration \(explicit)") }
            return FileSettings()
        }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw CommandOutcome.unusable("\(path) is not YAML: \(error)")
        }
        guard let mapping = parsed as? [String: Any] else {
            throw CommandOutcome.unusable("\(path) must be a mapping with broker: and token_file:")
        }
        for key in mapping.keys where !["broker", "token_file"].contains(key) {
            throw CommandOutcome.unusable("\(path): unknown key \(key) (known: broker, token_file)")
        }
        var settings = FileSettings()
        settings.path = path
        settings.broker = mapping["broker"] as? String
        settings.tokenFile = (mapping["token_file"] as? String).map { ($0 as NSString).expandingTildeInPath }
        return settings
    }

    private static func readToken(_ path: String) throws(CommandOutcome) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandOutcome.unusable("cannot read the operator token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.hasPrefix("wop_") else {
            throw CommandOutcome.unusable("\(path) does not hold an operator token (they start with wop_)")
        }
        return token
    }
}

/// A client of the broker's admin API for one command: its own HTTP client, shut down when done, so a broker
/// that is down fails the command at once instead of being retried until the deadline.
struct AdminClient: Sendable {
    let base: String
    let token: String
    /// Where the token came from, for messages.
    var tokenSource = "the command line"
    let timeout: TimeAmount

    /// Runs `body` with a connection, mapping every failure to an outcome.
    func run(_ body: (Session) async throws(CommandOutcome) -> CommandOutcome) async -> CommandOutcome {
        var configuration = HTTPClient.Configuration()
        // An operator wants to know at once that the broker is down, not after retries until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
        let outcome: CommandOutcome
        do {
            outcome = try await body(Session(client: self, http: http))
        } catch {
            outcome = error
        }
        try? await http.shutdown()
        return outcome
    }

    /// One command's requests.
    struct Session {
        let client: AdminClient
        let http: HTTPClient

        /// A `GET`, its answer read as `Answer`; `unreadable` says what an answer of another shape means for
        /// the command, when the generic message would not.
        func get<Answer: WireValue>(
            _ path: String,
            query: some WireParameters,
            as answer: Answer.Type,
            unreadable: ((WireError) -> CommandOutcome)? = nil
        ) async throws(CommandOutcome) -> Reply<Answer> {
            try await send(.GET, path + query.query, as: answer, unreadable: unreadable)
        }

        /// A `GET` without a query, its answer read as `Answer`.
        func get<Answer: WireValue>(
            _ path: String,
            as answer: Answer.Type
        ) async throws(CommandOutcome) -> Reply<Answer> {
            try await send(.GET, path, as: answer)
        }

        /// A `POST` with a JSON body (or none), its answer read as `Answer`.
        func post<Answer: WireValue>(
            _ path: String,
            body: (any WireValue)? = nil,
            as answer: Answer.Type
        ) async throws(CommandOutcome) -> Reply<Answer> {
            try await send(.POST, path, body: body, as: answer)
        }

        /// Follows an event stream (`GET`, Server-Sent Events) from after `lastEventID`: each event is handed to
        /// `handle` as it arrives, until the broker ends the stream, the connection breaks, or nothing (not even
        /// a heartbeat) comes for `silence`. Returns the last event id seen, to resume from, and why the stream
        /// ended. A broker that cannot be reached, or refuses, is an outcome.
        func follow(
            _ path: String,
            after lastEventID: String,
            silence: TimeAmount = .seconds(15),
            handle: (ServerSentEvents.Event) throws(CommandOutcome) -> Void
        ) async throws(CommandOutcome) -> (last: String, ended: String) {
            var request = HTTPClientRequest(url: client.base + path)
            request.headers.add(name: "Authorization", value: "Bearer \(client.token)")
            request.headers.add(name: "Accept", value: "text/event-stream")
            request.headers.add(name: "Last-Event-ID", value: lastEventID)
            // A client of its own, whose read timeout ends a stream that went silent (a half-open connection).
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.timeout.connect = .seconds(5)
            configuration.timeout.read = silence
            let stream = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: configuration)
            let outcome: Result<(last: String, ended: String), CommandOutcome>
            do throws(CommandOutcome) {
                outcome = .success(try await read(request, over: stream, after: lastEventID, handle: handle))
            } catch {
                outcome = .failure(error)
            }
            try? await stream.shutdown()
            return try outcome.get()
        }

        private func read(
            _ request: HTTPClientRequest,
            over stream: HTTPClient,
            after lastEventID: String,
            handle: (ServerSentEvents.Event) throws(CommandOutcome) -> Void
        ) async throws(CommandOutcome) -> (last: String, ended: String) {
            let response: HTTPClientResponse
            do {
                response = try await stream.execute(request, deadline: .distantFuture)
            } catch {
                throw Self.unreachable(client.base, Self.reason(error))
            }
            guard (200..<300).contains(response.status.code) else {
                let bytes = (try? await response.body.collect(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
                let json = try? StrictJSON(maximumDepth: 64).parse(bytes: bytes)
                throw Self.failure(status: response.status.code, body: json, tokenSource: client.tokenSource)
            }
            var parser = ServerSentEvents()
            var last = lastEventID
            do {
                for try await chunk in response.body {
                    for case .event(let event) in try parser.feed(chunk.readableBytesView) {
                        if let id = event.id { last = id }
                        try handle(event)
                    }
                }
            } catch let outcome as CommandOutcome {
                throw outcome
            } catch {
                // A broken stream ends like a finished one: the caller resumes after `last`.
                return (last, "the stream broke: \(Self.reason(error))")
            }
            return (last, "the broker ended the stream")
        }

        /// Percent-encodes everything but RFC 3986 unreserved characters.
        static func escape(_ text: String) -> String { WirePath.escape(text) }

        private func send<Answer: WireValue>(
            _ method: HTTPMethod,
            _ path: String,
            body: (any WireValue)? = nil,
            as answer: Answer.Type,
            unreadable: ((WireError) -> CommandOutcome)? = nil
        ) async throws(CommandOutcome) -> Reply<Answer> {
            var request = HTTPClientRequest(url: client.base + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(client.token)")
            request.headers.add(name: "Accept", value: "application/json")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body.bytes))
            }
            let status: UInt
            let bytes: [UInt8]
            do {
                let response = try await http.execute(request, timeout: client.timeout)
                status = response.status.code
                bytes = Array(buffer: try await response.body.collect(upTo: 64 * 1024 * 1024))
            } catch {
                let reason = Self.reason(error)
                // Refused or TLS-failed connections never carried the request; anything else may have.
                if method == .POST, reason != "connection refused", !reason.hasPrefix("TLS failed"),
                    reason != "no connection in time"
                {
                    throw CommandOutcome(
                        output: "error: the broker at \(client.base) did not answer (\(reason)); the change may have "
                            + "been made: check `writ audit tail` before trying again",
                        exitCode: WritExitCode.unreachable
                    )
                }
                throw Self.unreachable(client.base, reason)
            }
            let json = try? StrictJSON(maximumDepth: 64).parse(bytes: bytes)
            guard (200..<300).contains(status) else {
                throw Self.failure(status: status, body: json, tokenSource: client.tokenSource)
            }
            guard let json else {
                throw CommandOutcome(
                    output: "error: the broker's answer is not JSON (HTTP \(status))",
                    exitCode: WritExitCode.unreachable
                )
            }
            do {
                return Reply(value: try Answer(json: json, mode: .response), json: json)
            } catch {
                if let unreadable { throw unreadable(error) }
                throw CommandOutcome(
                    output: "error: the broker's answer to \(method.rawValue) \(path.prefix { $0 != "?" }) is not what "
                        + "this writ understands (\(error)); is the broker a different version?",
                    exitCode: WritExitCode.unreachable
                )
            }
        }

        /// The broker could not be reached.
        static func unreachable(_ base: String, _ reason: String) -> CommandOutcome {
            CommandOutcome(
                output: "error: cannot reach the broker at \(base) (\(reason)); "
                    + "is `writ serve` running there? Set --broker or WRIT_BROKER.",
                exitCode: WritExitCode.unreachable
            )
        }

        private static func reason(_ error: any Error) -> String {
            if let error = error as? HTTPClientError,
                error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
            {
                return error == .connectTimeout ? "no connection in time" : "no answer in time"
            }
            if error is NIOSSLError || String(reflecting: error).contains("SSL") {
                return "TLS failed: is this an https address for a plain http listener, or the reverse?"
            }
            let text = "\(error)"
            return text.contains("refused") ? "connection refused" : text
        }

        /// A broker error as an outcome: its code, its sentence, and what to do.
        static func failure(status: UInt, body: JSONValue?, tokenSource: String = "") -> CommandOutcome {
            let refusal = body.flatMap { try? ErrorResponse(json: $0, mode: .response) }
            let code = refusal?.error ?? "http_\(status)"
            let message = refusal?.errorDescription ?? "HTTP \(status)"
            var hint = ""
            var exit = WritExitCode.rejected
            switch status {
            case 401:
                hint =
                    "\nthe operator token (from \(tokenSource)) is unknown or revoked; `writ operator list` on the "
                    + "broker host shows which operators exist"
                exit = WritExitCode.unauthorized
            case 403:
                hint = "\nthis operator's role may not do that; use an admin operator"
                exit = WritExitCode.unauthorized
            case 404: exit = WritExitCode.notFound
            case 500...: exit = WritExitCode.unreachable
            default: break
            }
            return CommandOutcome(output: "error: \(code): \(message)\(hint)", exitCode: exit, code: code)
        }
    }
}

/// A broker's answer: read as its wire type, and the JSON as the broker sent it, which `--json` prints whole
/// (members a newer broker adds included).
struct Reply<Answer: WireValue> {
    /// The answer as its type.
    let value: Answer
    /// The answer as sent.
    let json: JSONValue
}

extension CommandOutcome {
    /// A successful outcome printing `value` as JSON, for `--json`.
    static func json(_ value: JSONValue) -> CommandOutcome {
        CommandOutcome(output: JSONWriter.string(value), exitCode: WritExitCode.success)
    }

    /// An outcome for input or configuration the command cannot use.
    static func unusable(_ message: String) -> CommandOutcome {
        CommandOutcome(output: "error: \(message)", exitCode: WritExitCode.unusable)
    }

    /// Prints the outcome's output to standard output on success, to standard error otherwise, and exits with
    /// its code.
    func finishReportingErrors() throws {
        if exitCode == 0 {
            if !output.isEmpty { print(output) }
        } else {
            FileHandle.standardError.write(Data((output + "\n").utf8))
            throw ExitCode(exitCode)
        }
    }
}
