public import AsyncHTTPClient
public import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
public import WritToken

/// Where a ``RemoteKeySet`` gets its JWKS document.
public protocol JWKSSource: Sendable {
    /// Fetches the current JWKS document.
    func fetchJWKS() async throws -> [UInt8]
}

/// A JWKS document at an HTTP(S) URL.
public struct HTTPJWKSSource: JWKSSource {
    /// The URL of the JWKS.
    public let url: String
    /// The client that fetches it.
    public let client: HTTPClient
    /// How long a fetch may take.
    public let timeout: TimeAmount
    /// The largest document accepted.
    public let maximumBytes: Int

    /// A source at a URL.
    public init(
        url: String,
        client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(5),
        maximumBytes: Int = 1 << 20
    ) {
        self.url = url
        self.client = client
        self.timeout = timeout
        self.maximumBytes = maximumBytes
    }

    /// Why a fetch failed.
    public struct FetchError: Error, Sendable, CustomStringConvertible {
        /// The HTTP status, when one came back.
        public let status: UInt?
        public var description: String { "the JWKS fetch failed" + (status.map { " with HTTP \($0)" } ?? "") }
    }

    public func fetchJWKS() async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
        let response = try await client.execute(request, timeout: timeout)
        guard response.status == .ok else { throw FetchError(status: response.status.code) }
        let body = try await response.body.collect(upTo: maximumBytes)
        return Array(buffer: body)
    }
}

/// A key set fetched from a JWKS source, refreshed on an interval and after an unknown `kid`.
///
/// Lookups never wait: they read the current immutable set. Refreshes after an unknown `kid` are
/// rate-limited to one per ``minimumRefreshInterval``, so a flood of made-up `kid`s cannot hammer the
/// issuer; lookups that miss while such a refresh is in flight wait for it rather than being refused, so a
/// burst of tokens from a newly rotated-in key costs one fetch and is accepted whole. A failed refresh keeps
/// the previous set.
public final class RemoteKeySet: KeySetProvider, Service {
    struct State {
        var keySet = try! JSONWebKeySet(keys: [])
        var lastSuccess: Date?
        /// When a refresh after an unknown `kid` last started (the rate limit counts from here).
        var lastUnknownKeyRefresh: Date?
        /// Whether such a refresh is in flight, and who waits for its outcome.
        var unknownKeyRefreshInFlight = false
        var waiters: [CheckedContinuation<Bool, Never>] = []
        /// The outcome of the last refresh after an unknown `kid`.
        var lastUnknownKeyOutcome = false
    }

    private let state = Mutex(State())
    private let source: any JWKSSource
    /// How often the set is refreshed in the background.
    public let refreshInterval: TimeInterval
    /// The least time between two refreshes triggered by unknown `kid`s.
    public let minimumRefreshInterval: TimeInterval
    private let clock: any WritClock
    private let logger: Logger

    /// Creates a key set over a source; call ``refresh()`` or run it as a service to load keys.
    public init(
        source: any JWKSSource,
        refreshInterval: TimeInterval = 300,
        minimumRefreshInterval: TimeInterval = 10,
        clock: any WritClock = SystemClock(),
        logger: Logger = Logger(label: "writ.verifier.keys")
    ) {
        self.source = source
        self.refreshInterval = refreshInterval
        self.minimumRefreshInterval = minimumRefreshInterval
        self.clock = clock
        self.logger = logger
    }

    /// The current key set.
    public var keySet: JSONWebKeySet { state.withLock { $0.keySet } }

    /// When the set was last loaded successfully.
    public var lastRefresh: Date? { state.withLock { $0.lastSuccess } }

    public func key(id: String) -> VerificationKey? {
        state.withLock { $0.keySet.key(id: id) }
    }

    /// Fetches and installs the current set; on failure the previous set stays and the error is thrown.
    public func refresh() async throws {
        let now = clock.now
        let document = try await source.fetchJWKS()
        let keySet = try JSONWebKeySet(jsonBytes: document)
        state.withLock {
            $0.keySet = keySet
            $0.lastSuccess = now
        }
        logger.debug("key set refreshed", metadata: ["keys": "\(keySet.keys.count)"])
    }

    public func refreshAfterUnknownKey() async -> Bool {
        enum Decision {
            case fetch
            case wait
            case refuse(changed: Bool)
        }
        let now = clock.now
        let decision = state.withLock { state -> Decision in
            if state.unknownKeyRefreshInFlight { return .wait }
            // Only refreshes after unknown `kid`s count: the periodic one must not make a key that appeared
            // since (an immediate rotation) wait a whole interval.
            if let last = state.lastUnknownKeyRefresh, now.timeIntervalSince(last) < minimumRefreshInterval {
                // A refresh may have installed the key after the caller's lookup missed; looking again is cheap.
                return .refuse(changed: state.lastUnknownKeyOutcome)
            }
            state.lastUnknownKeyRefresh = now
            state.unknownKeyRefreshInFlight = true
            return .fetch
        }
        switch decision {
        case .refuse(let changed):
            return changed
        case .wait:
            return await withCheckedContinuation { continuation in
                let finished = state.withLock { state -> Bool? in
                    guard state.unknownKeyRefreshInFlight else { return state.lastUnknownKeyOutcome }
                    state.waiters.append(continuation)
                    return nil
                }
                // The refresh ended between the two locks: its outcome is already known.
                if let finished { continuation.resume(returning: finished) }
            }
        case .fetch:
            let outcome: Bool
            do {
                try await refresh()
                outcome = true
            } catch {
                logger.warning("key set refresh failed", metadata: ["error": "\(error)"])
                outcome = false
            }
            let waiters = state.withLock { state in
                state.unknownKeyRefreshInFlight = false
                state.lastUnknownKeyOutcome = outcome
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: outcome) }
            return outcome
        }
    }

    /// Loads the set, then refreshes it every ``refreshInterval`` until cancelled or shut down, then returns
    /// normally: a service that threw its cancellation would end the whole service group with an error.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.refresh()
                } catch {
                    if Task.isCancelled { return }
                    self.logger.warning("key set refresh failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: .seconds(self.refreshInterval))
                } catch {
                    return
                }
            }
        }
    }
}
