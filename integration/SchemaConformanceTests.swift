import Foundation
import NIOHTTP1
import Testing
import WritBroker
import WritToken

/// The broker against its own API document (docs/openapi.yaml), judged by software written elsewhere:
/// schemathesis (PyPI, installed by `make deps`) generates requests from the document and fails on any 5xx,
/// on any answer whose status, content type or body the document does not allow, and on a request the
/// document forbids (a parameter out of range, say) that the broker serves all the same.
@Suite("The broker against its OpenAPI document", .timeLimit(.minutes(4)))
struct SchemaConformanceTests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")

    /// One schemathesis run: the operations it covers, with the credential they need.
    struct Run: CustomStringConvertible {
        let description: String
        let authorization: String?
        let filter: [String]
    }

    /// Runs schemathesis over a subset of the document, returning its exit status and report.
    static func schemathesis(_ subset: Run, base: String, in directory: URL) async throws -> (Int32, String) {
        var arguments = [
            "python3", "-m", "schemathesis.cli", "run", document.path, "--url", base,
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
                + "response_schema_conformance,negative_data_rejection",
            // Deterministic generation (no seed, no example database) and one worker: every run sends the same
            // requests in the same order, so a failure found once is found again.
            "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--generation-deterministic",
            "--workers", "1",
            "--request-timeout", "10", "--suppress-health-check", "all", "--no-color", "--warnings", "off",
        ]
        if let authorization = subset.authorization { arguments += ["--header", "Authorization: \(authorization)"] }
        arguments += subset.filter
        return try await run(arguments, in: directory)
    }

    /// Runs a command, polling for its end; standard output and error together, for the failure message.
    static func run(_ arguments: [String], in directory: URL) async throws -> (Int32, String) {
        let output = directory.appendingPathComponent("schemathesis-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
    }

    /// Starts a broker, runs `body` against it, and stops it whether or not `body` threw.
    static func withBroker(
        environment: [String: String] = [:],
        _ body: (BrokerProcess) async throws -> Void
    ) async throws {
        let broker = try BrokerProcess()
        defer { broker.remove() }
        try await broker.start(environment: environment)
        do {
            try await body(broker)
        } catch {
            try? await broker.stop()
            throw error
        }
        try await broker.stop()
    }

    @Test("schemathesis finds no server error and no answer the document does not allow")
    func conformance() async throws {
        // Generated requests come quickly: limits that would answer 429 are moved out of the way.
        try await Self.withBroker(environment: ["WRIT_RATE_LIMIT": "1000000", "WRIT_OPEN_TASKS": "1000000"]) {
            broker in
            let (probe, _) = try await Self.run(
                ["python3", "-m", "schemathesis.cli", "--version"],
                in: broker.stateDirectory
            )
            try #require(probe == 0, "schemathesis is not installed: run `make deps`")
            let workload = try broker.workloadAssertion("spiffe://example.org/agents/coding-agent")
            let operatorToken = try broker.operatorToken()
            // The feed, introspection and metrics need a resource server or an operator; the operator run covers
            // them. It comes last: it revokes and rotates, which would change what the others see.
            let runs = [
                Run(
                    description: "workload routes",
                    authorization: "Bearer \(workload)",
                    filter: ["--include-path-regex", "^/v1/(tasks|revoke$)"]
                ),
                Run(
                    description: "public routes",
                    authorization: nil,
                    // The stream never ends by design, so a generated request to it could only time out; its
                    // parameters are checked by the next test. Security events are a media type schemathesis
                    // cannot generate (application/secevent+jwt); SignalReceiverTests sends them, good and bad.
                    filter: [
                        "--exclude-path-regex",
                        "^/(v1/(admin/|introspect|tasks|revoke$|revocations|ssf/events$)|metrics$)",
                    ]
                ),
                Run(
                    description: "operator routes",
                    authorization: "Bearer \(operatorToken)",
                    // The admin event stream never ends either; the next test checks its parameters.
                    filter: [
                        "--include-path-regex", "^/(v1/(admin/|introspect|revocations$)|metrics$)",
                        "--exclude-path-regex", "^/v1/admin/events$",
                    ]
                ),
            ]
            for run in runs {
                let (status, report) = try await Self.schemathesis(run, base: broker.baseURL, in: broker.stateDirectory)
                #expect(status == 0, "schemathesis over the \(run) found disagreements:\n\(report.suffix(6000))")
            }
        }
    }

    @Test("a parameter outside the document's range is a 400 invalid_request, never clamped or ignored")
    func parameterRanges() async throws {
        let cases: [(String, [(String, String)])] = [
            ("/v1/revocations?limit=1001", []),
            ("/v1/revocations?limit=0", []),
            ("/v1/revocations?after=-1", []),
            ("/v1/revocations?after=%2B5", []),
            ("/v1/revocations/stream?after=-1", []),
            ("/v1/revocations/stream?after=-1", [("Last-Event-ID", "3")]),
            ("/v1/revocations/stream?after=3", [("Last-Event-ID", "x")]),
            ("/v1/admin/events?after=-1", []),
            ("/v1/admin/events?after=1", [("Last-Event-ID", "x")]),
        ]
        try await Self.withBroker { broker in
            let client = BrokerClient(baseURL: broker.baseURL)
            // The feed is read by resource servers and operators; an operator token gets past the access check.
            let operatorToken = try broker.operatorToken()
            var replies: [(String, BrokerClient.Reply)] = []
            do {
                for (path, headers) in cases {
                    replies.append(
                        (
                            "\(path) \(headers)",
                            try await client.send(.GET, path, bearer: operatorToken, headers: headers)
                        )
                    )
                }
                replies.append(
                    ("maximum", try await client.send(.GET, "/v1/revocations?limit=1000", bearer: operatorToken))
                )
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
            for (request, reply) in replies.dropLast() {
                #expect(reply.status == 400, "\(request): \(reply.body)")
                #expect(reply.body.objectValue?["error"]?.stringValue == "invalid_request", "\(request)")
            }
            #expect(replies.last?.1.status == 200, "the document's maximum is accepted")
        }
    }
}
