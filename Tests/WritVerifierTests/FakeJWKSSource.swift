import Synchronization
import WritVerifier

/// Serves JWKS documents in turn (repeating the last), counting fetches, each after `delay`.
final class FakeJWKSSource: JWKSSource {
    private let state: Mutex<(documents: [String], fetches: Int)>
    private let delay: Duration

    init(documents: [String], delay: Duration = .zero) {
        state = Mutex((documents, 0))
        self.delay = delay
    }

    var fetches: Int { state.withLock { $0.fetches } }

    func fetchJWKS() async throws -> [UInt8] {
        if delay > .zero { try await Task.sleep(for: delay) }
        return state.withLock { state in
            let index = min(state.fetches, state.documents.count - 1)
            state.fetches += 1
            return Array(state.documents[index].utf8)
        }
    }
}
