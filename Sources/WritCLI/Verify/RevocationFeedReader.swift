import Foundation
import WritAPI
import WritToken
import WritVerifier

/// Reads a broker's whole revocation feed into a view, page by page, the way a resource server catches up,
/// for `writ verify --broker`.
enum RevocationFeedReader {
    /// The broker's largest page.
    static let pageSize = 1000

    /// The feed as a view, complete as of `now`. The operator token goes with every page, so the feed can
    /// require an authenticated caller.
    static func view(_ session: AdminClient.Session, now: Date) async throws(CommandOutcome) -> InMemoryRevocationView {
        let view = InMemoryRevocationView()
        while true {
            let after = view.lastSequence
            let query = RevocationPageQuery(after: after, limit: UInt64(pageSize))
            let page = try await session.get(
                "/v1/revocations",
                query: query,
                as: RevocationPageResponse.self,
                unreadable: { malformed("\($0)") }
            ).value
            let entries = page.revocations
            let last = page.last
            let hasMore = page.hasMore
            if let first = page.first, first > 0, UInt64(first) > after + 1 {
                // Entries below were dropped by the broker once every token they covered had expired.
                view.skip(through: UInt64(first) - 1)
            }
            view.apply(entries)
            if entries.isEmpty, last > 0, UInt64(last) > view.lastSequence { view.skip(through: UInt64(last)) }
            if !hasMore {
                view.markSynced(at: now)
                return view
            }
            guard view.lastSequence > after else { throw malformed("a page said more follows but moved nothing") }
        }
    }

    private static func malformed(_ reason: String) -> CommandOutcome {
        CommandOutcome(
            output: "error: the broker's revocation feed cannot be read (\(reason)); the token was not checked",
            exitCode: WritExitCode.unreachable
        )
    }
}
