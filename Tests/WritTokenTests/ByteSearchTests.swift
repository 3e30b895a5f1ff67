import Testing
import WritToken

@Suite("byte search")
struct ByteSearchTests {
    /// The first offset of `byte` at or after `start`, one byte at a time.
    static func naive(_ byte: UInt8, _ bytes: [UInt8], from start: Int) -> Int? {
        bytes.indices.first { $0 >= start && bytes[$0] == byte }
    }

    @Test("eight at a time finds what one at a time finds, near every boundary and among look-alike bytes")
    func agreesWithNaive() {
        var generator = SystemRandomNumberGenerator()
        // Bytes one away from the needle, above 0x80, and zero: what can fool a word-at-a-time test.
        let alphabet: [UInt8] = [0x2D, 0x2E, 0x2F, 0xAE, 0x00, 0x80, 0xFF, 0x20, 0x21, 0x1F, 0x41]
        for length in 0..<40 {
            for _ in 0..<60 {
                let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                for needle in [UInt8(ascii: "."), UInt8(ascii: " "), 0x00, 0xFF] {
                    for start in 0...length {
                        let found = bytes.withUnsafeBufferPointer {
                            ByteSearch.firstIndex(of: needle, in: $0, from: start)
                        }
                        #expect(found == Self.naive(needle, bytes, from: start))
                    }
                }
            }
        }
    }
}
