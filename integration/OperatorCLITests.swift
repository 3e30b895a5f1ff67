import Foundation
import GRDB
import NIOHTTP1
import Testing
import WritBroker
import WritToken

/// Every operator verb run as the `writ` executable against a real broker: tables and JSON, exit codes, wrong
/// credentials, unknown ids, a broker that is down.
@Suite("writ operator CLI against a running broker", .timeLimit(.minutes(5)))
struct OperatorCLITests {
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let assistant = "spiffe://example.org/agents/retrieval-assistant"
    static let orchestrator = "spiffe://example.org/agents/research-orchestrator"
    static let summarizer = "spiffe://example.org/agents/summarizer"
    static let readRepository = """
        {"type":"implement-change","purpose":"fix the retry bug","authorization_details":[{"type":"repository",\
        "locations":["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """

    static func research(parent: String? = nil, delegate: String? = nil) -> String {
        var extra = ""
        if let parent { extra += ",\"parent\":\"\(parent)\"" }
        if let delegate { extra += ",\"delegate_to\":\"\(delegate)\"" }
        return """
            {"type":"research-report","authorization_details":[{"type":"document","locations":\
            ["https://docs.example.org"],"identifier":"public/reports/q3","actions":["read"]}]\(extra)}
            """
    }

    static func question(_ assertion: String) -> String {
        """
        {"type":"answer-question","user_assertion":"\(assertion)","authorization_details":[{"type":"document",\
        "locations":["https://docs.example.org"],"identifier":"departments/finance/q3.pdf","actions":["read"]}]}
        """
    }

    /// A broker with a few tasks: a coding task with a token, a research task delegated to the summarizer,
    /// and a question answered for alice.
    struct Fixture {
        let broker: BrokerProcess
        let client: BrokerClient
        let writ: WritRunner
        let codingTask: String
        let codingToken: String
        let researchTask: String
        let subTask: String
        let questionTask: String

        func close() async throws {
            await client.shutdown()
            try await broker.stop()
            broker.remove()
        }
    }

    static func fixture(environment: [String: String] = [:]) async throws -> Fixture {
        let broker = try BrokerProcess()
        try await broker.start(environment: ["WRIT_RATE_LIMIT": "10000"].merging(environment) { $1 })
        let client = BrokerClient(baseURL: broker.baseURL)
        let coder = try broker.workloadAssertion(coder)
        let coding = try await client.send(.POST, "/v1/tasks", bearer: coder, json: readRepository)
        let codingTask = try #require(coding.body.objectValue?["id"]?.stringValue)
        let issued = try await client.token(task: codingTask, actor: coder)
        let accessToken = try #require(issued.body.objectValue?["access_token"]?.stringValue)
        let jti = try AccessToken.unverifiedClaims(accessToken).tokenID
        let orchestrator = try broker.workloadAssertion(orchestrator)
        let started = try await client.send(.POST, "/v1/tasks", bearer: orchestrator, json: research())
        let researchTask = try #require(started.body.objectValue?["id"]?.stringValue)
        let sub = try await client.send(
            .POST,
            "/v1/tasks",
            bearer: orchestrator,
            json: Self.research(parent: researchTask, delegate: summarizer)
        )
        let subTask = try #require(sub.body.objectValue?["id"]?.stringValue, "\(sub.body)")
        let alice = try DevelopmentIdentity.userAssertion(
            subject: "alice",
            claims: ["email": .string("alice@example.org"), "department": .string("finance")],
            audience: "writ",
            key: try broker.state.developmentKey(named: DevelopmentIdentity.userKeyName),
            now: Date()
        )
        let asked = try await client.send(
            .POST,
            "/v1/tasks",
            bearer: try broker.workloadAssertion(assistant),
            json: question(alice)
        )
        let questionTask = try #require(asked.body.objectValue?["id"]?.stringValue, "\(asked.body)")
        return Fixture(
            broker: broker,
            client: client,
            writ: WritRunner(broker: broker),
            codingTask: codingTask,
            codingToken: jti,
            researchTask: researchTask,
            subTask: subTask,
            questionTask: questionTask
        )
    }

    /// A compact JWS's protected header, read without verifying: the test only looks at its `kid`.
    static func header(of token: String) throws -> [String: JSONValue] {
        let parts = token.split(separator: ".")
        let bytes = try #require(parts.count == 3 ? Base64URL.decode(parts[0]) : nil)
        return try #require(try StrictJSON().parse(bytes: bytes).objectValue)
    }

    static func json(_ text: String) throws -> [String: JSONValue] {
        try #require(try StrictJSON().parse(text.trimmingCharacters(in: .whitespacesAndNewlines)).objectValue)
    }

    @Test("tasks list and show, workloads list: tables, JSON, filters, the sub-task tree, unknown ids")
    func inspect() async throws {
        let fixture = try await Self.fixture()
        let writ = fixture.writ

        let table = try await writ.run(["tasks", "list"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("TASK "))
        for id in [fixture.codingTask, fixture.researchTask, fixture.subTask, fixture.questionTask] {
            #expect(table.stdout.contains(id))
        }
        let listed = try Self.json(try await writ.run(["tasks", "list", "--json"]).stdout)
        #expect(listed["tasks"]?.arrayValue?.count == 4)
        #expect(listed["has_more"] == .bool(false))
        let cut = try await writ.run(["tasks", "list", "--limit", "2"])
        #expect(cut.stdout.contains("(more tasks match"))
        #expect(cut.stdout.split(separator: "\n").count == 4)

        let byWorkload = try Self.json(
            try await writ.run(["tasks", "list", "--workload", Self.coder, "--json"]).stdout
        )
        #expect(
            byWorkload["tasks"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == [fixture.codingTask]
        )
        #expect(byWorkload["tasks"]?.arrayValue?.first?.objectValue?["live_tokens"] == .integer(1))
        let byUser = try Self.json(try await writ.run(["tasks", "list", "--user", "alice", "--json"]).stdout)
        #expect(
            byUser["tasks"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == [fixture.questionTask]
        )
        let byAudience = try Self.json(
            try await writ.run(["tasks", "list", "--audience", "https://docs.example.org", "--json"]).stdout
        )
        #expect(byAudience["tasks"]?.arrayValue?.count == 3)
        let none = try await writ.run(["tasks", "list", "--state", "completed"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("no tasks match"))
        let badState = try await writ.run(["tasks", "list", "--state", "finished"])
        #expect(badState.status == 2)
        #expect(badState.stderr.contains("--state must be"))
        #expect(try await writ.run(["tasks", "list", "--workload", "coding-agent"]).status == 2)
        #expect(try await writ.run(["tasks", "list", "--limit", "0"]).status == 2)

        let tree = try await writ.run(["tasks", "show", fixture.researchTask])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(tree.stdout.contains("TASK TREE"))
        #expect(tree.stdout.contains("└─ \(fixture.subTask)"))
        #expect(tree.stdout.contains(Self.summarizer))
        let sub = try await writ.run(["tasks", "show", fixture.subTask])
        #expect(sub.stdout.contains("parent      \(fixture.researchTask)"))
        #expect(sub.stdout.contains("delegated by \(Self.orchestrator)"))
        let withToken = try await writ.run(["tasks", "show", fixture.codingTask])
        #expect(withToken.stdout.contains(fixture.codingToken))
        #expect(withToken.stdout.contains("live"))
        let shown = try Self.json(try await writ.run(["tasks", "show", fixture.codingTask, "--json"]).stdout)
        #expect(shown["tokens"]?.arrayValue?.first?.objectValue?["jti"] == .string(fixture.codingToken))
        #expect(shown["tokens"]?.arrayValue?.first?.objectValue?["binding"] == .string("dpop"))
        let unknown = try await writ.run(["tasks", "show", "tsk_nope"])
        #expect(unknown.status == 5)
        #expect(unknown.stderr.contains("not_found"))

        let workloads = try await writ.run(["workloads", "list"])
        #expect(workloads.status == 0)
        #expect(workloads.stdout.hasPrefix("WORKLOAD "))
        let active = try Self.json(try await writ.run(["workloads", "list", "--json"]).stdout)
        let rows = active["workloads"]?.arrayValue?.compactMap(\.objectValue) ?? []
        let coder = try #require(rows.first { $0["workload"] == .string(Self.coder) })
        #expect(coder["open_tasks"] == .integer(1))
        #expect(coder["live_tokens"] == .integer(1))
        #expect(rows.contains { $0["workload"] == .string(Self.summarizer) })
        try await fixture.close()
    }

    @Test("revoke task, token, workload, user and before: what each covers, the feed sequence, durability")
    func revoke() async throws {
        let fixture = try await Self.fixture()
        let writ = fixture.writ

        let token = try await writ.run(["revoke", "token", fixture.codingToken])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(token.stdout.contains("revoked token \(fixture.codingToken)"))
        #expect(token.stdout.contains("tokens covered  1 live"))
        #expect(token.stdout.contains("feed sequence   1 (durable)"))
        // Twice: the same entry, nothing new covered.
        let again = try Self.json(try await writ.run(["revoke", "token", fixture.codingToken, "--json"]).stdout)
        #expect(again["sequence"] == .integer(1))
        #expect(again["tokens_covered"] == .integer(0))
        let shown = try Self.json(try await writ.run(["tasks", "show", fixture.codingTask, "--json"]).stdout)
        #expect(shown["tokens"]?.arrayValue?.first?.objectValue?["revoked"] == .bool(true))
        #expect(try await writ.run(["tasks", "show", fixture.codingTask]).stdout.contains("revoked"))

        let task = try Self.json(try await writ.run(["revoke", "task", fixture.researchTask, "--json"]).stdout)
        #expect(task["tasks_closed"]?.arrayValue?.count == 2)
        #expect(task["sequence"] == .integer(3))

        let user = try Self.json(try await writ.run(["revoke", "user", "alice", "--json"]).stdout)
        #expect(user["tasks_closed"]?.arrayValue?.count == 1)
        let workload = try await writ.run(["revoke", "workload", Self.coder])
        #expect(workload.status == 0)
        #expect(workload.stdout.contains("tasks closed    1"))
        #expect(workload.stdout.contains("tokens covered  0 live"), "its one token was revoked already")
        let before = try Self.json(
            try await writ.run(["revoke", "before", "now", "--workload", Self.coder, "--json"]).stdout
        )
        #expect(before["revocations"]?.arrayValue?.first?.objectValue?["kind"] == .string("issued_before"))

        // Unknown ids, bad input.
        let gone = try await writ.run(["revoke", "task", "tsk_nope"])
        #expect(gone.status == 5)
        #expect(gone.stderr.contains("not_found"))
        let closed = try await writ.run(["revoke", "task", fixture.researchTask])
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("task_closed"))
        let notSPIFFE = try await writ.run(["revoke", "workload", "coding-agent"])
        #expect(notSPIFFE.status == 2)
        // A typo would revoke nothing that exists and leave the real workload live: refused unless forced.
        let typo = try await writ.run(["revoke", "workload", "spiffe://example.org/agents/summarizr"])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("no task of workload spiffe://example.org/agents/summarizr is on record"))
        #expect(try await writ.run(["revoke", "user", "alice@example.org"]).status == 2)
        let forced = try await writ.run([
            "revoke", "workload", "spiffe://example.org/agents/summarizr", "--force", "--json",
        ])
        #expect(forced.status == 0, "\(forced.stderr)")
        let last = try #require(try Self.json(forced.stdout)["sequence"]?.integerValue)
        let badTime = try await writ.run(["revoke", "before", "yesterday-ish"])
        #expect(badTime.status == 2)
        #expect(badTime.stderr.contains("ISO 8601"))

        // Durable: after kill -9 the feed still holds every revocation the CLI reported.
        try await fixture.broker.kill9()
        try await fixture.broker.start()
        let feed = try await fixture.client.send(
            .GET,
            "/v1/revocations?after=0",
            bearer: try fixture.broker.operatorToken()
        )
        #expect(feed.body.objectValue?["last"]?.integerValue == last)
        try await fixture.close()
    }

    @Test("wrong or missing credentials, a role that may not, a broker that is down, the CLI config file")
    func credentialsAndReachability() async throws {
        let fixture = try await Self.fixture()
        let base = fixture.broker.baseURL

        let wrong = try await WritRunner(environment: ["WRIT_BROKER": base, "WRIT_OPERATOR_TOKEN": "wop_abc_def"])
            .run(["tasks", "list"])
        #expect(wrong.status == 4)
        #expect(wrong.stderr.contains("unauthenticated"))
        #expect(wrong.stderr.contains("the operator token (from WRIT_OPERATOR_TOKEN) is unknown or revoked"))

        let missing = try await WritRunner(environment: ["WRIT_BROKER": base]).run(["tasks", "list"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no operator token"))

        let created = try await fixture.writ.run(["operator", "create", "resource-server", "--role", "introspect"])
        let introspector = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        let forbidden = try await WritRunner(environment: ["WRIT_BROKER": base, "WRIT_OPERATOR_TOKEN": introspector])
            .run(["workloads", "list"])
        #expect(forbidden.status == 4)
        #expect(forbidden.stderr.contains("forbidden"))

        // The broker and token from a config file.
        let config = fixture.broker.stateDirectory.appendingPathComponent("cli.yaml")
        try "broker: \(base)\ntoken_file: \(fixture.broker.state.operatorToken.path)\n".write(
            to: config,
            atomically: true,
            encoding: .utf8
        )
        let fromFile = try await WritRunner(environment: ["WRIT_CLI_CONFIG": config.path]).run(["workloads", "list"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        try "broker: \(base)\ntokenfile: x\n".write(to: config, atomically: true, encoding: .utf8)
        let typo = try await WritRunner(environment: ["WRIT_CLI_CONFIG": config.path]).run(["workloads", "list"])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("unknown key tokenfile"))

        // Evidence kept: an export is never replaced without --force, nor destroyed by a failed one.
        let evidence = fixture.broker.stateDirectory.appendingPathComponent("evidence.jsonl")
        #expect(try await fixture.writ.run(["audit", "export", "--out", evidence.path]).status == 0)
        let kept = try Data(contentsOf: evidence)
        #expect(try await fixture.writ.run(["audit", "export", "--out", evidence.path]).status == 2)

        try await fixture.broker.stop()
        let failedExport = try await fixture.writ.run(["audit", "export", "--out", evidence.path, "--force"])
        #expect(failedExport.status == 3)
        #expect(try Data(contentsOf: evidence) == kept, "a failed export must not touch the earlier one")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: fixture.broker.stateDirectory.path)
        #expect(!siblings.contains { $0.contains(".partial-") })
        let empty = fixture.broker.stateDirectory.appendingPathComponent("empty.jsonl")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        #expect(try await fixture.writ.run(["audit", "verify", "--export", empty.path]).status == 2)
        let down = try await fixture.writ.run(["tasks", "list"])
        #expect(down.status == 3)
        #expect(down.stderr.contains("cannot reach the broker at \(base)"))
        let downRevoke = try await fixture.writ.run(["revoke", "user", "alice"])
        #expect(downRevoke.status == 3)
        // Plain http to another host would send the token in clear: refused before any request.
        let clear = try await fixture.writ.run(["tasks", "list", "--broker", "http://writ.example.org:8080"])
        #expect(clear.status == 2)
        #expect(clear.stderr.contains("--insecure-http"))
        try await fixture.close()
    }

    @Test("keys list and rotate: published before it signs, one rotation at a time")
    func keys() async throws {
        let fixture = try await Self.fixture(environment: ["WRIT_KEY_PUBLISH_LEAD": "5"])
        let writ = fixture.writ
        let before = try Self.json(try await writ.run(["keys", "list", "--json"]).stdout)
        let first = try #require(before["active"]?.stringValue)
        #expect(before["keys"]?.arrayValue?.count == 1)

        let rotated = try Self.json(try await writ.run(["keys", "rotate", "--json"]).stdout)
        let second = try #require(rotated["kid"]?.stringValue)
        #expect(rotated["previous_kid"] == .string(first))
        let jwks = try await fixture.client.send(.GET, "/.well-known/jwks.json")
        let published = jwks.body.objectValue?["keys"]?.arrayValue?.compactMap { $0.objectValue?["kid"]?.stringValue }
        #expect(Set(published ?? []) == [first, second])
        let listed = try await writ.run(["keys", "list"])
        #expect(listed.stdout.contains("pending"))
        let again = try await writ.run(["keys", "rotate"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("rotation_pending"))

        // Until the lead has passed the old key signs; after it, the new one.
        let coder = try fixture.broker.workloadAssertion(Self.coder)
        var signer: String?
        for _ in 0..<150 {
            let keys = try Self.json(try await writ.run(["keys", "list", "--json"]).stdout)
            if keys["active"] == .string(second) {
                signer = second
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(signer == second)
        let task = try await fixture.client.send(.POST, "/v1/tasks", bearer: coder, json: Self.readRepository)
        let issued = try await fixture.client.token(task: task.body.objectValue?["id"]?.stringValue ?? "", actor: coder)
        let token = try #require(issued.body.objectValue?["access_token"]?.stringValue)
        #expect(try Self.header(of: token)["kid"] == .string(second))
        try await fixture.close()
    }

    @Test("audit tail, tail --follow, export and verify")
    func audit() async throws {
        let fixture = try await Self.fixture()
        let writ = fixture.writ

        let tail = try await writ.run(["audit", "tail", "-n", "3"])
        #expect(tail.status == 0)
        #expect(tail.stdout.split(separator: "\n").count == 3)
        let lines = try await writ.run(["audit", "tail", "-n", "5", "--json"])
        let entries = try lines.stdout.split(separator: "\n").map { try Self.json(String($0)) }
        #expect(entries.count == 5)
        #expect(entries.allSatisfy { $0["hash"]?.stringValue?.count == 64 })

        let follow = try writ.start(["audit", "tail", "-n", "1", "--follow", "--interval", "0.1"])
        // Following from the entry it printed first.
        for _ in 0..<200 where follow.stdout.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!follow.stdout.contains("revocation.created"))
        _ = try await writ.run(["revoke", "user", "alice"])
        var seen = false
        for _ in 0..<100 where !seen {
            seen = follow.stdout.contains("revocation.created")
            try await Task.sleep(for: .milliseconds(50))
        }
        try await follow.stop()
        #expect(seen)

        let out = fixture.broker.stateDirectory.appendingPathComponent("audit.jsonl")
        let export = try await writ.run(["audit", "export", "--out", out.path])
        #expect(export.status == 0, "\(export.stderr)")
        let exported = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        let verify = try Self.json(try await writ.run(["audit", "verify", "--json"]).stdout)
        #expect(verify["intact"] == .bool(true))
        #expect(verify["entries"] == .integer(Int64(exported.count)))
        #expect(export.stdout.contains("exported \(exported.count) entries"))
        let readable = try await writ.run(["audit", "verify"])
        #expect(readable.status == 0)
        #expect(readable.stdout.contains("audit chain intact"))
        try await fixture.close()
    }

    /// Alters, deletes or reorders one row of a copy of the database; returns the copy's state directory.
    static func tampered(_ source: URL, _ change: String, _ statements: [String]) throws -> URL {
        let directory = source.deletingLastPathComponent().appendingPathComponent("tampered-\(change)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source.path + suffix) {
            try FileManager.default.copyItem(
                atPath: source.path + suffix,
                toPath: directory.appendingPathComponent("writ.sqlite").path + suffix
            )
        }
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("writ.sqlite").path)
        try queue.write { db in
            for statement in statements { try db.execute(sql: statement) }
        }
        try queue.close()
        return directory
    }

    /// Reads an export's last sequence number.
    enum AuditVerifyExport {
        static func lastSequence(of file: URL) throws -> Int64? {
            let last = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").last.map(String.init)
            return try last.flatMap { try StrictJSON().parse($0).objectValue?["seq"]?.integerValue }
        }
    }

    @Test("audit verify names the altered, deleted or reordered row, offline and through the broker")
    func auditTampering() async throws {
        let fixture = try await Self.fixture()
        let writ = fixture.writ
        // An export kept elsewhere: its last entry anchors the log.
        let export = fixture.broker.stateDirectory.appendingPathComponent("kept.jsonl")
        #expect(try await writ.run(["audit", "export", "--out", export.path]).status == 0)
        // Everything committed and checkpointed into the main file.
        try await fixture.broker.stop()
        let database = fixture.broker.state.database
        let altered = try Self.tampered(
            database,
            "altered",
            ["UPDATE audit SET actor = 'operator:nobody' WHERE seq = 5"]
        )
        let deleted = try Self.tampered(database, "deleted", ["DELETE FROM audit WHERE seq = 6"])
        // Rows 4 and 5 trade places: each keeps its number but carries the other's content and hashes.
        let columns = "at_ms, event, actor, subject, detail, prev_hash, hash"
        let reordered = try Self.tampered(
            database,
            "reordered",
            [
                "CREATE TEMP TABLE swap AS SELECT seq, \(columns) FROM audit WHERE seq IN (4, 5)",
                """
                UPDATE audit SET (\(columns)) = (SELECT \(columns) FROM swap WHERE swap.seq = 9 - audit.seq)
                WHERE seq IN (4, 5)
                """,
            ]
        )
        let intact = try await writ.run(["audit", "verify", "--state", database.deletingLastPathComponent().path])
        #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
        for (directory, entry, reason) in [
            (altered, 5, "its content does not match its hash"), (deleted, 6, "entries 6 to 6 are missing"),
            (reordered, 4, "it does not follow the entry before it"),
        ] {
            let result = try await writ.run(["audit", "verify", "--state", directory.path])
            #expect(result.status == 1)
            #expect(result.stdout.contains("audit chain BROKEN at entry \(entry): \(reason)"), "\(result.stdout)")
            let json = try Self.json(
                try await writ.run(["audit", "verify", "--state", directory.path, "--json"]).stdout
            )
            #expect(json["broken_at"] == .integer(Int64(entry)))
        }

        // Someone rewrites entry 2 and recomputes every hash after it: the chain alone holds, the anchor does not.
        let rewritten = try Self.tampered(database, "rewritten", [])
        let queue = try DatabaseQueue(path: rewritten.appendingPathComponent("writ.sqlite").path)
        try await queue.write { db in
            var previous = AuditEntry.genesisHash
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq") {
                let sequence: Int64 = row["seq"]
                let actor: String = sequence == 2 ? "operator:nobody" : row["actor"]
                let detail = try StrictJSON().parse(row["detail"] as String)
                let hash = AuditEntry.hash(
                    sequence: sequence,
                    milliseconds: row["at_ms"],
                    event: row["event"],
                    actor: actor,
                    subject: row["subject"],
                    detail: detail,
                    previousHash: previous
                )
                try db.execute(
                    sql: "UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                    arguments: [actor, previous, hash, sequence]
                )
                previous = hash
            }
        }
        try queue.close()
        let anchorSequence = try #require(
            try AuditVerifyExport.lastSequence(of: export)
        )
        #expect(
            try await writ.run(["audit", "verify", "--state", rewritten.path]).status == 0,
            "the chain alone holds"
        )
        let anchored = try await writ.run(["audit", "verify", "--state", rewritten.path, "--anchor", export.path])
        #expect(anchored.status == 1)
        #expect(
            anchored.stdout.contains(
                "BROKEN at entry \(anchorSequence): its hash differs from the anchor's: the log was rewritten up to here"
            ),
            "\(anchored.stdout)"
        )
        let honest = try await writ.run([
            "audit", "verify", "--state", database.deletingLastPathComponent().path, "--anchor", export.path,
        ])
        #expect(honest.status == 0, "\(honest.stdout)\(honest.stderr)")

        // The export on its own: intact, and one altered line is found.
        #expect(try await writ.run(["audit", "verify", "--export", export.path]).status == 0)
        var lines = try String(contentsOf: export, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"actor\":\"", with: "\"actor\":\"x")
        let edited = fixture.broker.stateDirectory.appendingPathComponent("edited.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: edited, atomically: true, encoding: .utf8)
        let editedResult = try await writ.run(["audit", "verify", "--export", edited.path])
        #expect(editedResult.status == 1)
        #expect(
            editedResult.stdout.contains("BROKEN at entry 3: its content does not match its hash"),
            "\(editedResult.stdout)"
        )

        // Through the broker: tamper with its live database, then ask it.
        try await fixture.broker.start()
        let live = try DatabaseQueue(path: database.path)
        try await live.write { db in try db.execute(sql: "UPDATE audit SET subject = 'nothing' WHERE seq = 3") }
        try live.close()
        let online = try await writ.run(["audit", "verify"])
        #expect(online.status == 1)
        #expect(online.stdout.contains("audit chain BROKEN at entry 3"))
        // The anchor (an untouched entry) still matches, so the break is the chain's, found at entry 3.
        let anchoredOnline = try await writ.run(["audit", "verify", "--anchor", export.path, "--json"])
        #expect(anchoredOnline.status == 1)
        #expect(try Self.json(anchoredOnline.stdout)["broken_at"] == .integer(3))
        try await fixture.close()
    }

    @Test("operator create, list and revoke on the broker host; a revoked token is refused at once")
    func operators() async throws {
        let fixture = try await Self.fixture()
        let writ = fixture.writ
        let created = try await writ.run(["operator", "create", "alice"])
        #expect(created.status == 0, "\(created.stderr)")
        let token = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("wop_"))
        let alice = WritRunner(environment: ["WRIT_BROKER": fixture.broker.baseURL, "WRIT_OPERATOR_TOKEN": token])
        #expect(try await alice.run(["workloads", "list"]).status == 0)

        let duplicate = try await writ.run(["operator", "create", "alice"])
        #expect(duplicate.status == 2)
        // An existing --out file stops the creation before any operator exists.
        let taken = fixture.broker.stateDirectory.appendingPathComponent("taken.token")
        FileManager.default.createFile(atPath: taken.path, contents: Data("x".utf8))
        #expect(try await writ.run(["operator", "create", "orphan", "--out", taken.path]).status == 2)
        #expect(!(try await writ.run(["operator", "list"]).stdout.contains("orphan")))
        let listed = try await writ.run(["operator", "list"])
        #expect(listed.stdout.contains("bootstrap"))
        #expect(listed.stdout.contains("alice"))
        // The secret (256 bits, 43 base64url characters, which may include `_`) is never listed.
        #expect(!listed.stdout.contains(String(token.suffix(43))))

        let revoked = try await writ.run(["operator", "revoke", "alice"])
        #expect(revoked.status == 0)
        // The broker checked alice a moment ago (and remembers it), yet refuses her now.
        let refused = try await alice.run(["workloads", "list"])
        #expect(refused.status == 4)
        let json = try Self.json(try await writ.run(["operator", "list", "--json"]).stdout)
        let rows = json["operators"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(rows.first { $0["name"] == .string("alice") }?["revoked_at"] != nil)
        let unknown = try await writ.run(["operator", "revoke", "mallory"])
        #expect(unknown.status == 5)
        let noState = try await writ.run(["operator", "list", "--state", "/nonexistent"])
        #expect(noState.status == 2)
        #expect(noState.stderr.contains("no broker database"))

        let audit = try await writ.run(["audit", "tail", "-n", "50"])
        #expect(audit.stdout.contains("operator.revoked"))

        // The last admin is kept unless forced; with none left the broker still restarts (and makes no new one).
        let last = try await writ.run(["operator", "revoke", "bootstrap"])
        #expect(last.status == 2)
        #expect(last.stderr.contains("last active admin"))
        #expect(try await writ.run(["operator", "revoke", "bootstrap", "--force"]).status == 0)
        try await fixture.broker.stop()
        try await fixture.broker.start()
        #expect(try await writ.run(["workloads", "list"]).status == 4)
        let rescue = try await writ.run(["operator", "create", "rescue", "--json"])
        let rescueToken = try #require(try Self.json(rescue.stdout)["token"]?.stringValue)
        let rescuer = WritRunner(environment: [
            "WRIT_BROKER": fixture.broker.baseURL, "WRIT_OPERATOR_TOKEN": rescueToken,
        ])
        #expect(try await rescuer.run(["workloads", "list"]).status == 0)
        try await fixture.close()
    }

    @Test("completion scripts and help with examples")
    func completionAndHelp() async throws {
        let writ = WritRunner(environment: [:])
        for shell in ["bash", "zsh", "fish"] {
            let script = try await writ.run(["completion", shell])
            #expect(script.status == 0)
            #expect(script.stdout.contains("revoke"))
        }
        #expect(try await writ.run(["completion", "tcsh"]).status != 0)
        // A verb that cannot run exits 2, with what to do.
        let noKey = try await writ.run(["dev", "workload-token", "--state", "/nonexistent", Self.coder])
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("start the broker once"))
        let help = try await writ.run(["revoke", "--help"])
        #expect(help.stdout.contains("Examples:"))
        #expect(help.stdout.contains("writ revoke workload spiffe://"))
    }
}
