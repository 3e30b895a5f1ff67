/// Base64url without padding (RFC 4648 §5), as JOSE uses it.
///
/// Decoding is canonical: padding, characters outside the alphabet, an impossible length and non-zero
/// trailing bits are all refused, so exactly one byte string maps to each accepted text.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// Encodes bytes as unpadded base64url text.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            output.append(alphabet[Int(first >> 2)])
            output.append(alphabet[Int((first & 0x03) << 4 | (second ?? 0) >> 4)])
            if let second {
                output.append(alphabet[Int((second & 0x0F) << 2 | (third ?? 0) >> 6)])
            }
            if let third {
                output.append(alphabet[Int(third & 0x3F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes canonical unpadded base64url, or returns nil.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(bytes: text.utf8)
    }

    /// Decodes canonical unpadded base64url held as bytes, or returns nil.
    public static func decode<Bytes: Collection>(bytes text: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        if let result = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return result }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    private static func decode(buffer text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = text.count
        let remainder = count % 4
        if remainder == 1 { return nil }
        let outputCount = count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                var input = 0
                var written = 0
                // Whole blocks: four characters, three bytes; any invalid character sets a high bit.
                while input + 4 <= count {
                    let a = UInt32(table[Int(text[input])])
                    let b = UInt32(table[Int(text[input + 1])])
                    let c = UInt32(table[Int(text[input + 2])])
                    let d = UInt32(table[Int(text[input + 3])])
                    if (a | b | c | d) & 0x80 != 0 {
                        valid = false
                        break
                    }
                    let block = a << 18 | b << 12 | c << 6 | d
                    buffer[written] = UInt8(truncatingIfNeeded: block >> 16)
                    buffer[written + 1] = UInt8(truncatingIfNeeded: block >> 8)
                    buffer[written + 2] = UInt8(truncatingIfNeeded: block)
                    written += 3
                    input += 4
                }
                if valid, remainder > 0 {
                    let a = UInt32(table[Int(text[input])])
                    let b = UInt32(table[Int(text[input + 1])])
                    let c = remainder == 3 ? UInt32(table[Int(text[input + 2])]) : 0
                    if (a | b | c) & 0x80 != 0 {
                        valid = false
                    } else if remainder == 2 {
                        // Two characters carry one byte; the low four bits of the second must be zero.
                        if b & 0x0F != 0 { valid = false }
                        buffer[written] = UInt8(truncatingIfNeeded: a << 2 | b >> 4)
                        written += 1
                    } else {
                        // Three characters carry two bytes; the low two bits of the third must be zero.
                        if c & 0x03 != 0 { valid = false }
                        let block = a << 12 | b << 6 | c
                        buffer[written] = UInt8(truncatingIfNeeded: block >> 10)
                        buffer[written + 1] = UInt8(truncatingIfNeeded: block >> 2)
                        written += 2
                    }
                }
                initialized = written
            }
            return valid ? output : nil
        }
    }
}
