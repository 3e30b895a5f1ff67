public import ArgumentParser
import Foundation
import WritAPI
import WritBroker
import WritToken

#if canImport(Glibc)
import Glibc
#endif

/// `writ audit`: what happened, and proof that the record is whole.
public struct AuditCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, export and verify the hash-chained audit log.",
        subcommands: [AuditTailCommand.self, AuditExportCommand.self, AuditVerifyCommand.self]
    )

    public init() {}

    /// One entry as a line for people.
    static func line(_ entry: AuditEntryBody) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(entry.atMilliseconds) / 1000))
        return "\(entry.seq)  \(time)  \(entry.event)  \(entry.actor)  \(entry.subject)  "
            + JSONWriter.string(entry.detail)
    }
}

/// `writ audit tail`.
public struct AuditTailCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the latest audit entries; --follow keeps printing new ones until interrupted.",
        discussion: """
            One entry per line: sequence, time, event, actor, subject, details. With --json, one JSON object per \
            line (JSON Lines).

            Examples:
              writ audit tail -n 50
              writ audit tail --follow --json | jq 'select(.event == "revocation.created")'
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .short, help: "How many of the latest entries to print first.")
    var n: Int = 20

    @Flag(help: "Keep printing new entries as they are written.")
    var follow = false

    @Option(help: "Seconds between polls with --follow.")
    var interval: Double = 1

    public init() {}

    public func run() async throws {
        let client: AdminClient
        do { client = try connection.resolve() } catch { return try error.finishReportingErrors() }
        let outcome = await client.run { session throws(CommandOutcome) in
            // One request gives both the entries to print and where to follow from (even with -n 0).
            let count = max(0, min(n, 1000))
            let first = try await Self.entries(session, AuditPageQuery(last: UInt64(max(count, 1))))
            var after: Int64? = first.last?.seq ?? 0
            emit(Array(first.suffix(count)))
            guard follow else { return CommandOutcome(output: "", exitCode: 0) }
            var waiting = false
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .milliseconds(Int(max(0.05, interval) * 1000)))
                } catch {
                    break
                }
                let page: [AuditEntryBody]
                do throws(CommandOutcome) {
                    let query = AuditPageQuery(after: UInt64(max(after ?? 0, 0)), limit: 1000)
                    page = try await Self.entries(session, query)
                } catch  where error.exitCode == WritExitCode.unreachable {
                    // A broker restarting is no reason to stop following: say so once, keep asking.
                    if !waiting {
                        FileHandle.standardError.write(Data("\(error.output); still following\n".utf8))
                        waiting = true
                    }
                    continue
                }
                if waiting {
                    FileHandle.standardError.write(Data("the broker answers again\n".utf8))
                    waiting = false
                }
                after = emit(page) ?? after
            }
            return CommandOutcome(output: "", exitCode: 0)
        }
        if outcome.exitCode != 0 { try outcome.finishReportingErrors() }
    }

    /// Prints entries; returns the last sequence printed.
    @discardableResult
    private func emit(_ entries: [AuditEntryBody]) -> Int64? {
        var text = ""
        for entry in entries {
            text += (connection.json ? JSONWriter.string(entry.json) : AuditCommand.line(entry)) + "\n"
        }
        if !text.isEmpty { FileHandle.standardOutput.write(Data(text.utf8)) }
        return entries.last?.seq
    }

    /// One page of entries.
    static func entries(
        _ session: AdminClient.Session,
        _ query: AuditPageQuery
    ) async throws(CommandOutcome) -> [AuditEntryBody] {
        try await session.get("/v1/admin/audit", query: query, as: AuditPageResponse.self).value.entries
    }
}

/// `writ audit export`.
public struct AuditExportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every audit entry as JSON Lines (with its hashes, so the export can be re-verified).",
        discussion: """
            Examples:
              writ audit export --out audit-2026-11-27.jsonl
              writ audit export --after 5000 | gzip > audit.jsonl.gz
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only entries after this sequence number.")
    var after: Int64 = 0

    @Option(help: "A file to write (written whole, then renamed into place); standard output when absent.")
    var out: String?

    @Flag(help: "Replace --out if it exists.")
    var force = false

    public init() {}

    public func run() async throws { try await outcome().finishReportingErrors() }

    /// Writes the entries; the outcome summarises (only when writing to a file).
    public func outcome() async -> CommandOutcome {
        let client: AdminClient
        do { client = try connection.resolve() } catch { return error }
        let handle: FileHandle
        // Evidence is never destroyed by a failed export: the entries go to a temporary file beside --out,
        // renamed over it only once every page has arrived.
        let partial = out.map { $0 + ".partial-\(ProcessInfo.processInfo.processIdentifier)" }
        if let out, let partial {
            if FileManager.default.fileExists(atPath: out), !force {
                return .unusable("\(out) exists; choose another --out, or pass --force to replace it")
            }
            guard
                FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]),
                let file = FileHandle(forWritingAtPath: partial)
            else { return .unusable("cannot write beside \(out)") }
            handle = file
        } else {
            handle = FileHandle.standardOutput
        }
        let outcome = await client.run { session throws(CommandOutcome) in
            var cursor = after
            var count = 0
            var first: Int64?
            while true {
                let query = AuditPageQuery(after: UInt64(max(cursor, 0)), limit: 1000)
                let entries = try await AuditTailCommand.entries(session, query)
                guard !entries.isEmpty else { break }
                var text = ""
                for entry in entries { text += JSONWriter.string(entry.json) + "\n" }
                do {
                    try handle.write(contentsOf: Data(text.utf8))
                } catch {
                    throw CommandOutcome.unusable("cannot write the export: \(error)")
                }
                count += entries.count
                first = first ?? entries.first?.seq
                cursor = entries.last?.seq ?? cursor
            }
            guard let out, let partial else { return CommandOutcome(output: "", exitCode: 0) }
            do {
                try handle.synchronize()
                try handle.close()
            } catch {
                throw CommandOutcome.unusable("cannot write the export beside \(out): \(error)")
            }
            // Without --force, link refuses a file that appeared at --out meanwhile; rename would replace it.
            if force {
                guard rename(partial, out) == 0 else {
                    throw CommandOutcome.unusable("cannot move the export into place at \(out) (errno \(errno))")
                }
            } else {
                guard link(partial, out) == 0 else {
                    throw CommandOutcome.unusable(
                        errno == EEXIST
                            ? "\(out) appeared while exporting; it was left alone (pass --force to replace it)"
                            : "cannot put the export at \(out) (errno \(errno))"
                    )
                }
                unlink(partial)
            }
            let range = first.map { " (entries \($0) to \(cursor))" } ?? ""
            return CommandOutcome(output: "exported \(count) entries\(range) to \(out)", exitCode: 0)
        }
        if let partial, FileManager.default.fileExists(atPath: partial) {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
        }
        return outcome
    }
}

/// `writ audit verify`.
public struct AuditVerifyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the hash chain and name the first entry that was altered, removed or reordered.",
        discussion: """
            Asks the broker by default. With --state or --config it reads the database directly (on the broker \
            host, even with the broker stopped): the PostgreSQL database the configuration (or \
            WRIT_DATABASE_URL) names, else the SQLite file in the state directory. Exits 0 when the chain is \
            intact, 1 when it is broken.

            The chain alone cannot catch someone who rewrites the whole table and recomputes every hash. Keep \
            exports somewhere the broker's host cannot write, and verify against the latest with --anchor: the \
            log must still hold exactly the export's last entry. --export checks an exported file on its own.

            Examples:
              writ audit verify
              writ audit verify --anchor /mnt/audit-archive/2026-11-26.jsonl
              writ audit verify --state /var/lib/writ --json
              writ audit verify --config /etc/writ/broker.yaml
              writ audit verify --export /mnt/audit-archive/2026-11-26.jsonl
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Verify the database in this state directory instead of asking the broker.")
    var state: String?

    @Option(help: "Verify the database this broker configuration names instead of asking the broker.")
    var config: String?

    @Option(help: "An earlier export (JSON Lines) whose last entry the log must still hold.")
    var anchor: String?

    @Option(help: "Verify this exported file (JSON Lines) on its own, without the broker.")
    var export: String?

    public init() {}

    public func run() async throws {
        let outcome = await outcome()
        // A broken chain is the verb's answer, on standard output; a refusal from the broker is an error.
        if outcome.exitCode == WritExitCode.rejected, outcome.code == nil {
            return try outcome.finish()
        }
        try outcome.finishReportingErrors()
    }

    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        if let export { return render(Self.exported(export)) }
        let outside: AuditLog.Anchor?
        do { outside = try anchor.map(Self.lastEntry) } catch { return error }
        if state != nil || config != nil {
            return render(await local(against: outside))
        }
        let query = AuditVerificationQuery(
            anchorSeq: outside.map { UInt64(max($0.sequence, 0)) },
            anchorHash: outside?.hash
        )
        let outcome = await connection.run { session throws(CommandOutcome) in
            let reply = try await session.get(
                "/v1/admin/audit/verify",
                query: query,
                as: AuditVerificationResponse.self
            )
            if let outside, reply.value.anchorSeq != outside.sequence {
                throw CommandOutcome.unusable(
                    "the broker did not check the anchor (an older version?); verify with --state on its host"
                )
            }
            return render(.success(reply.json))
        }
        if outcome.code == BrokerError.Code.anchorPruned.rawValue {
            return CommandOutcome(output: outcome.output, exitCode: WritExitCode.unusable, code: outcome.code)
        }
        guard outcome.exitCode == WritExitCode.unreachable else { return outcome }
        return CommandOutcome(
            output: outcome.output + "\non the broker host, `writ audit verify --state STATE_DIR` reads the database "
                + "directly, with the broker running or not",
            exitCode: outcome.exitCode
        )
    }

    /// The entries of an export, or an outcome saying what is wrong with the file.
    static func entries(of path: String) throws(CommandOutcome) -> [AuditEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandOutcome.unusable("cannot read \(path)")
        }
        var entries: [AuditEntry] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let body = try? AuditEntryBody(responseBody: Array(line.utf8)) else {
                throw CommandOutcome.unusable("\(path):\(index + 1): not an audit entry written by `writ audit export`")
            }
            entries.append(AuditEntry(body))
        }
        return entries
    }

    /// The last entry of an export, as an anchor.
    static func lastEntry(_ path: String) throws(CommandOutcome) -> AuditLog.Anchor {
        guard let last = try entries(of: path).last else { throw CommandOutcome.unusable("\(path) holds no entry") }
        return AuditLog.Anchor(sequence: last.sequence, hash: last.hash)
    }

    /// An export checked on its own.
    static func exported(_ path: String) -> Result<JSONValue, CommandOutcome> {
        let entries: [AuditEntry]
        do { entries = try Self.entries(of: path) } catch { return .failure(error) }
        guard !entries.isEmpty else {
            return .failure(.unusable("\(path) holds no audit entry; an empty export proves nothing"))
        }
        let report = AuditLog.Report(
            problem: AuditLog.verify(exported: entries),
            entries: entries.count,
            last: entries.last?.sequence ?? 0
        )
        return .success(report.wire.json)
    }

    /// The chain of the database on this host: the configured PostgreSQL database, else the state directory's.
    private func local(against outside: AuditLog.Anchor?) async -> Result<JSONValue, CommandOutcome> {
        let configuration: BrokerConfiguration
        let location: PostgresLocation?
        do {
            configuration = try BrokerConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
            location = try configuration.storeLocation()
        } catch {
            return .failure(.unusable("configuration: \(error)"))
        }
        if let location {
            do {
                let report = try await HostAdministration(postgres: location).verifyAudit(against: outside)
                return .success(report.wire.json)
            } catch let pruned as AuditLog.AnchorPruned {
                return .failure(.unusable(pruned.description))
            } catch {
                return .failure(.unusable("cannot check the broker database \(location): \(error)"))
            }
        }
        let state = self.state ?? configuration.stateDirectory
        do {
            let report = try HostAdministration.verifyAudit(in: StateDirectory(path: state), against: outside)
            return .success(report.wire.json)
        } catch let pruned as AuditLog.AnchorPruned {
            return .failure(.unusable(pruned.description))
        } catch let mismatch as BrokerDatabase.SchemaMismatch {
            return .failure(.unusable(mismatch.description))
        } catch {
            return .failure(.unusable("cannot read the broker database in \(state): \(error)"))
        }
    }

    private func render(_ result: Result<JSONValue, CommandOutcome>) -> CommandOutcome {
        let body: JSONValue
        switch result {
        case .success(let value): body = value
        case .failure(let outcome): return outcome
        }
        // The broker's answer, or the same report made here from a database or an export: read the one way.
        let report: AuditVerificationResponse
        do {
            report = try AuditVerificationResponse(json: body, mode: .response)
        } catch {
            return .unusable("the audit report cannot be read: \(error)")
        }
        let exit = report.intact ? WritExitCode.success : WritExitCode.rejected
        if connection.json { return CommandOutcome(output: JSONWriter.string(body), exitCode: exit) }
        if report.intact {
            return CommandOutcome(
                output: "audit chain intact: \(report.entries) entries, last \(report.last)",
                exitCode: exit
            )
        }
        return CommandOutcome(
            output: "audit chain BROKEN at entry \(report.brokenAt.map { String($0) } ?? "-"): "
                + Render.text(report.reason),
            exitCode: exit
        )
    }
}
