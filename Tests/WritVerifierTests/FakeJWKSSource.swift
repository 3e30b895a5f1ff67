import Synchronization
import WritVerifier

/// Serves JWKS documents in turn (repeating the last), counting fetches.
final class FakeJWKSSource: JWKSSource {
    private let state: Mutex<(documents: [String], fetches: Int)>

    init(documents: [String]) {
        state = Mutex((documents, 0))
    }

    var fetches: Int { state.withLock { $0.fetches } }

    func fetchJWKS() async throws -> [UInt8] {
        state.withLock { state in
            let index = min(state.fetches, state.documents.count - 1)
            state.fetches += 1
            return Array(state.documents[index].utf8)
        }
    }
}
