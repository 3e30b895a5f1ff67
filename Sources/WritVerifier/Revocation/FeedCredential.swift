import Foundation

/// What a resource server presents to read the broker's revocation feed: the broker serves the feed only to
/// registered resource servers (by their own workload identity) and to operators with the `introspect` role.
///
/// The value is produced for every request, so a credential that rotates — a JWT-SVID a SPIFFE helper
/// rewrites before it expires — is picked up without a restart.
public struct FeedCredential: Sendable {
    /// The bearer value for the next request.
    public let bearer: @Sendable () async throws -> String

    /// A credential computed for each request.
    public init(bearer: @escaping @Sendable () async throws -> String) { self.bearer = bearer }

    /// A fixed bearer value (an operator token with the `introspect` role).
    public static func token(_ value: String) -> FeedCredential {
        FeedCredential { value }
    }

    /// The contents of a file, read for each request and trimmed: where a SPIFFE helper keeps the resource
    /// server's JWT-SVID, or where an operator token is kept.
    public static func file(_ path: String) -> FeedCredential {
        FeedCredential {
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw FeedError.refused("the credential file \(path) is empty") }
            return text
        }
    }
}
