/// Finds a byte in untrusted input eight bytes at a time: the verify path scans a whole token (about 900
/// bytes) for its dots and for spaces, and a byte-at-a-time loop over it costs about a microsecond.
package enum ByteSearch {
    /// The offset of the first `byte` in `buffer` at or after `start`, or nil.
    package static func firstIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var index = start
        // A word with a zero byte where the input holds `byte`; the lowest flagged byte is always a true match
        // (a borrow can only flag bytes above a true zero, never below one).
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        while index + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) ^ pattern
            let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if zeros != 0 { return index + zeros.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < count {
            if base[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Whether every byte is below 0x80.
    package static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var index = 0
        while index + 8 <= buffer.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < buffer.count {
            if base[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }
}
