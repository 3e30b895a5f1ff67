public import ArgumentParser
import Foundation
import WritAPI
import WritToken

/// `writ revoke lift SEQ --reason TEXT`: undo a mistaken workload or user revocation.
public struct RevokeLiftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lift",
        abstract: "Lift a mistaken workload or user revocation: new tasks and tokens are allowed again.",
        discussion: """
            ENTRY is the feed sequence number `writ revoke workload|user` printed. From the next second on, the \
            workload (or user) may start tasks and get tokens again; every token issued before stays revoked, and \
            the tasks the revocation closed stay closed. The lift is itself a feed entry, so verifiers following \
            the feed accept the new tokens, and it is audited with its reason. Lifting twice answers with the \
            first lift.

            Example:
              writ revoke lift 42 --reason "revoked the wrong workload"
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The feed sequence number of the workload or user revocation.") var entry: UInt64
    @Option(help: "Why the revocation is lifted (audited).") var reason: String
    public init() {}
    public func run() async throws { try await outcome().finishReportingErrors() }
    /// What the verb prints and how it exits.
    public func outcome() async -> CommandOutcome {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .unusable("--reason must say why the revocation is lifted")
        }
        return await connection.run { session throws(CommandOutcome) in
            let reply = try await session.post(
                WireRoutes.path("/v1/admin/revocations/{seq}/lift", ["seq": String(entry)]),
                body: RevocationLiftRequest(reason: reason),
                as: RevocationLiftResponse.self
            )
            if connection.json { return .json(reply.json) }
            let lift = reply.value
            let what: String
            switch lift.lifted.subject {
            case .workload(let workload): what = "workload \(workload)"
            case .user(let user): what = "user \(user)"
            case .task(let id): what = "task \(id)"
            case .token(let id): what = "token \(id)"
            case .key(let id): what = "key \(id)"
            case .issuedBefore: what = "issued_before \(entry)"
            case .lift: what = "lift \(entry)"
            }
            var from: String?
            if case .lift(_, let start) = lift.revocation.subject { from = Render.iso8601(start) }
            let sequence = lift.sequence
            let earlier = lift.isNew ? "" : " (lifted before)"
            return CommandOutcome(
                output: """
                    lifted entry \(entry)\(earlier): \(what)
                    allowed from    \(from ?? "-") (tokens issued before stay revoked)
                    feed sequence   \(sequence) (durable)
                    """,
                exitCode: 0
            )
        }
    }
}
