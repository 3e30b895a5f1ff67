import Synchronization

/// Remembers encoded access-token headers that passed every header check, by their exact bytes.
///
/// Only the header's own checks are skipped on a hit; the key lookup, the signature and everything after
/// still run for every token. A broker signs every token of a key with the same header, so a handful of
/// entries covers all traffic; lookups compare bytes without hashing or allocating. When full, the oldest
/// entry is replaced.
final class HeaderCache: Sendable {
    static let shared = HeaderCache(capacity: 16)

    struct Entry {
        let bytes: [UInt8]
        let algorithm: SignatureAlgorithm
        let kid: String
    }

    private let entries = Mutex((list: [Entry](), next: 0))
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func lookup(_ segment: ArraySlice<UInt8>) -> (SignatureAlgorithm, String)? {
        entries.withLock { state in
            for entry in state.list where entry.bytes.count == segment.count && entry.bytes.elementsEqual(segment) {
                return (entry.algorithm, entry.kid)
            }
            return nil
        }
    }

    func insert(_ segment: ArraySlice<UInt8>, algorithm: SignatureAlgorithm, kid: String) {
        let entry = Entry(bytes: Array(segment), algorithm: algorithm, kid: kid)
        entries.withLock { state in
            if state.list.count < capacity {
                state.list.append(entry)
            } else {
                state.list[state.next] = entry
                state.next = (state.next + 1) % capacity
            }
        }
    }
}
