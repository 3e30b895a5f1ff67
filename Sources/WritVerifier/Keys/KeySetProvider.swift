public import WritToken

/// Where a verifier finds keys by `kid`. Lookups are synchronous so the hot path never waits.
public protocol KeySetProvider: Sendable {
    /// The key with this id, if currently known.
    func key(id: String) -> VerificationKey?

    /// Called after a lookup missed; a provider that can refresh may do so, within its rate limit.
    /// Returns whether the key set may have changed since the caller's lookup (a refresh ran, now or just
    /// before), so looking again may find the key.
    func refreshAfterUnknownKey() async -> Bool
}

extension KeySetProvider {
    /// Static providers cannot refresh.
    public func refreshAfterUnknownKey() async -> Bool { false }
}

/// A fixed key set, from configuration or a JWKS file.
public struct StaticKeySet: KeySetProvider {
    /// The keys.
    public let keySet: JSONWebKeySet

    /// Wraps a key set.
    public init(_ keySet: JSONWebKeySet) { self.keySet = keySet }

    /// Wraps keys.
    public init(_ keys: [VerificationKey]) throws(KeyError) { self.keySet = try JSONWebKeySet(keys: keys) }

    public func key(id: String) -> VerificationKey? { keySet.key(id: id) }
}
