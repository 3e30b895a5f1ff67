public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
public import WritToken

/// Revocations from the broker's Token Status Lists (draft-ietf-oauth-status-list), for resource servers that
/// prefer polling a list to following the feed: each token's `status` names a bit, 1 once anything revoked it.
///
/// Lookups never wait. A list is fetched in the background when a token first names it (that token, and
/// others of the same list until the list arrives, are refused as `revocation_view_stale`, within about a
/// second), then again each time its `ttl` runs out, with `If-None-Match`. Fails closed like the feed: a token
/// with no `status`, a list that does not verify or names another URI, an index outside the list, and a list
/// not refreshed within ``Configuration/maximumStaleness`` all refuse the token. Only lists under the broker's
/// `/v1/status-lists/` are ever fetched, whatever a token names.
public final class StatusListRevocations: RevocationView, Service {
    /// Where lists come from and how stale they may get.
    public struct Configuration: Sendable {
        /// The broker's issuer URL: the lists' `iss`, and the base of every list URI fetched.
        public var issuer: String
        /// How long after its last successful fetch a list may still be used; past it, its tokens are refused.
        public var maximumStaleness: TimeInterval = 60
        /// How often the lists due for a refresh are looked at.
        public var tick: Duration = .milliseconds(250)

        /// A configuration for a broker.
        public init(issuer: String) { self.issuer = issuer }
    }

    /// What fetching a list answered: the status, the body and the entity tag.
    public typealias Fetch =
        @Sendable (_ uri: String, _ entityTag: String?) async throws -> (
            status: Int, body: String, entityTag: String?
        )

    private struct Held: Sendable {
        var list: StatusList
        var fetchedAt: Date
        var timeToLive: TimeInterval
        var expiresAt: Date
        var entityTag: String?

        var refreshAt: Date { fetchedAt.addingTimeInterval(timeToLive) }
    }

    private let configuration: Configuration
    private let keys: any KeySetProvider
    private let fetch: Fetch
    private let clock: any WritClock
    private let lists = Mutex<[String: Held]>([:])
    /// The lists tokens named, with when one last did: a list no token named for an hour is dropped.
    private let wanted = Mutex<[String: Date]>([:])

    /// A source of revocations over the broker's status lists, verified with `keys` (the broker's JWKS).
    public init(
        configuration: Configuration,
        keys: any KeySetProvider,
        clock: any WritClock = SystemClock(),
        fetch: Fetch? = nil
    ) {
        self.configuration = configuration
        self.keys = keys
        self.clock = clock
        self.fetch = fetch ?? Self.http(client: .shared)
    }

    /// The lists are fetched over HTTP with this client.
    public static func http(client: HTTPClient) -> Fetch {
        { uri, tag in
            var request = HTTPClientRequest(url: uri)
            request.headers.add(name: "Accept", value: StatusListToken.mediaType)
            if let tag { request.headers.add(name: "If-None-Match", value: tag) }
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: StatusListToken.maximumLength)
            return (Int(response.status.code), String(buffer: body), response.headers.first(name: "ETag"))
        }
    }

    // MARK: - RevocationView

    /// A token's status in the list it names, which must be a list of the key that signed it (the broker keeps
    /// lists per signing key, and revokes all of a key's list when it revokes the key).
    public func status(of claims: AccessTokenClaims, signedBy kid: String, now: Date) -> RevocationStatus {
        guard let reference = claims.status, reference.uri.hasPrefix(listPrefix + kid + ".") else {
            return .stale(lastHeard: nil)
        }
        return status(of: claims, now: now)
    }

    public func status(of claims: AccessTokenClaims, now: Date) -> RevocationStatus {
        guard let reference = claims.status, isBrokerList(reference.uri) else { return .stale(lastHeard: nil) }
        wanted.withLock { $0[reference.uri] = now }
        guard let held = lists.withLock({ $0[reference.uri] }) else { return .stale(lastHeard: nil) }
        guard now.timeIntervalSince(held.fetchedAt) <= configuration.maximumStaleness, now < held.expiresAt else {
            return .stale(lastHeard: held.fetchedAt)
        }
        switch held.list.status(at: reference.index) {
        case 0?: return .notRevoked
        case nil: return .stale(lastHeard: held.fetchedAt)
        default:
            return .revoked(
                Revocation(
                    sequence: 0,
                    subject: .token(claims.tokenID),
                    revokedAt: held.fetchedAt,
                    retainUntil: claims.expiresAt
                )
            )
        }
    }

    /// Whether a URI is one of the broker's lists: `ISSUER/v1/status-lists/ID`, one plain segment.
    var listPrefix: String { configuration.issuer + "/v1/status-lists/" }

    func isBrokerList(_ uri: String) -> Bool {
        let prefix = listPrefix
        guard uri.hasPrefix(prefix), uri.utf8.count <= prefix.utf8.count + 128 else { return false }
        let id = uri.dropFirst(prefix.count)
        return !id.isEmpty && id.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    // MARK: - Fetching

    /// Keeps the lists tokens named fresh until cancelled or the service group shuts down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh()
                try? await Task.sleep(for: self.configuration.tick)
            }
        }
    }

    /// Fetches every list a token named that is missing or due, now.
    public func refresh() async {
        let now = clock.now
        let forgotten = wanted.withLock { wanted in
            let old = wanted.filter { now.timeIntervalSince($0.value) > 3600 }.map(\.key)
            for uri in old { wanted[uri] = nil }
            return old
        }
        lists.withLock { lists in for uri in forgotten { lists[uri] = nil } }
        let asked = wanted.withLock { Array($0.keys) }
        let due = asked.filter { uri in lists.withLock { $0[uri].map { $0.refreshAt <= now } ?? true } }
        for uri in due { await load(uri, now: now) }
    }

    private func load(_ uri: String, now: Date) async {
        let tag = lists.withLock { $0[uri]?.entityTag }
        guard let answer = try? await fetch(uri, tag) else { return }
        if answer.status == 304 {
            // Unchanged since the copy held: it is as fresh as a new one.
            lists.withLock { lists in lists[uri]?.fetchedAt = now }
            return
        }
        guard answer.status == 200 else { return }
        let verify = { () throws(VerificationError) -> StatusListToken in
            try StatusListToken.verified(
                answer.body,
                uri: uri,
                issuer: self.configuration.issuer,
                now: now,
                lookup: { self.keys.key(id: $0) }
            )
        }
        var token: StatusListToken?
        do {
            token = try verify()
        } catch {
            // A list signed by a key the verifier has not fetched yet: refresh the keys, then try once more.
            if error.code == .unknownKey, await keys.refreshAfterUnknownKey() { token = try? verify() }
        }
        guard let token else { return }
        let held = Held(
            list: token.list,
            fetchedAt: now,
            timeToLive: TimeInterval(max(token.timeToLive, 1)),
            expiresAt: token.expiresAt,
            entityTag: answer.entityTag
        )
        lists.withLock { $0[uri] = held }
    }
}
