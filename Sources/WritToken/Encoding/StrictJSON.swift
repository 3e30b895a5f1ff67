/// A strict RFC 8259 JSON parser for untrusted token parts.
///
/// It refuses what lenient parsers let through and attackers use: duplicate object keys (which
/// parsers resolve differently), invalid UTF-8, lone surrogates, control characters in strings,
/// leading zeros, trailing commas, trailing content, and nesting deeper than ``maximumDepth``.
public struct StrictJSON: Sendable {
    /// Why a text is not strict JSON.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong.
        public var message: String
        /// The byte offset where parsing stopped.
        public var offset: Int
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// The deepest nesting of arrays and objects accepted.
    public var maximumDepth: Int

    /// Creates a parser with a depth limit.
    public init(maximumDepth: Int = 32) {
        self.maximumDepth = maximumDepth
    }

    /// Parses one JSON value that must span the whole input.
    public func parse<Bytes: Collection>(_ bytes: Bytes) throws(ParseError) -> JSONValue
    where Bytes.Element == UInt8 {
        try parse(bytes: Array(bytes))
    }

    /// Parses one JSON value that must span the whole input.
    public func parse(bytes array: [UInt8]) throws(ParseError) -> JSONValue {
        let result = array.withUnsafeBufferPointer { buffer -> Result<JSONValue, ParseError> in
            var cursor = JSONCursor(bytes: buffer, maximumDepth: maximumDepth)
            do throws(ParseError) {
                cursor.skipWhitespace()
                let value = try cursor.parseValue(depth: 0)
                cursor.skipWhitespace()
                guard cursor.index == buffer.count else {
                    throw ParseError(message: "trailing content after the JSON value", offset: cursor.index)
                }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses one JSON value held in a string.
    public func parse(_ text: String) throws(ParseError) -> JSONValue {
        try parse(bytes: Array(text.utf8))
    }
}

/// A position in untrusted bytes, with the strict parsing rules of ``StrictJSON``. Decoders that read a known
/// shape straight from the bytes (the access-token claims) walk it themselves with these same rules.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func fail(_ message: String) -> StrictJSON.ParseError {
        StrictJSON.ParseError(message: message, offset: index)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func expect(_ literal: String, value: JSONValue) throws(StrictJSON.ParseError) -> JSONValue {
        let expected = literal.utf8
        guard index + expected.count <= bytes.count else { throw fail("unexpected end of input") }
        guard bytes[index..<(index + expected.count)].elementsEqual(expected) else { throw fail("invalid literal") }
        index += expected.count
        return value
    }

    mutating func parseValue(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
        case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
        case UInt8(ascii: "n"): return try expect("null", value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func parseObject(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw fail("nesting too deep") }
        index += 1
        var members: [String: JSONValue] = Dictionary(minimumCapacity: 6)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            guard members.updateValue(value, forKey: key) == nil else {
                throw StrictJSON.ParseError(message: "duplicate member \"\(key)\"", offset: keyOffset)
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw fail("nesting too deep") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(StrictJSON.ParseError) -> JSONValue {
        let start = index
        var isIntegral = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw fail("leading zero") }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isIntegral = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isIntegral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected an exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if isIntegral, index - start <= 18 {
            // Up to 18 digits cannot overflow Int64: accumulate directly.
            var negative = false
            var position = start
            if bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            var value: Int64 = 0
            while position < index {
                value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                position += 1
            }
            return .integer(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isIntegral, let integer = Int64(text) {
            return .integer(integer)
        }
        guard let double = Double(text), double.isFinite else { throw fail("number out of range") }
        return .double(double)
    }

    func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The next byte, or nil at the end.
    var next: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// The next byte, or 0 at the end: for comparing with a structural byte, which is never 0.
    var peek: UInt8 { index < bytes.count ? bytes[index] : 0 }

    /// Consumes `byte` after optional whitespace, or fails with `message`.
    mutating func consume(_ byte: UInt8, orFail message: String) throws(StrictJSON.ParseError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw fail(message) }
        index += 1
    }

    /// Reads a string that is plain ASCII without escapes — every name this profile knows, and most values —
    /// as the bytes between its quotes, without building a `String`. Returns nil and leaves the cursor on the
    /// opening quote when the string holds an escape or a non-ASCII byte: ``parseString()`` then reads it.
    mutating func parsePlainASCIIString() throws(StrictJSON.ParseError) -> UnsafeBufferPointer<UInt8>? {
        let start = index + 1
        var position = start
        // Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII; the byte
        // loop below then finds which one it was.
        if let base = bytes.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while position + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                // (x - n) & ~x & 0x80… is non-zero exactly when some byte of x is below n (n ≤ 0x80).
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    | ((word &- ones &* 0x20) & ~word) | word
                if special & highs != 0 { break }
                position += 8
            }
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\\") || byte >= 0x80 { return nil }
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                return UnsafeBufferPointer(rebasing: bytes[start..<position])
            }
            if byte < 0x20 {
                index = position
                throw fail("control character in string")
            }
            position += 1
        }
        index = position
        throw fail("unterminated string")
    }

    mutating func parseString() throws(StrictJSON.ParseError) -> String {
        // Most strings in a token are plain ASCII: read those without the general path's bookkeeping.
        if let plain = try parsePlainASCIIString() { return String(decoding: plain, as: UTF8.self) }
        index += 1
        let start = index
        var highBits: UInt8 = 0
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // Pure ASCII needs no UTF-8 validation.
                if highBits < 0x80 { return String(decoding: slice, as: UTF8.self) }
                return try validatedUTF8(slice, offset: start)
            }
            highBits |= byte
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in string") }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try scalars.withUnsafeBufferPointer { buffer throws(StrictJSON.ParseError) in
                    try validatedUTF8(buffer, offset: start)
                }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unexpected end of input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    scalars.append(contentsOf: String(Character(scalar)).utf8)
                default: throw fail("invalid escape")
                }
            default:
                if byte < 0x20 { throw fail("control character in string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseHex4() throws(StrictJSON.ParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseUnicodeEscape() throws(StrictJSON.ParseError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800...0xDBFF).contains(first) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw fail("lone high surrogate") }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw fail("invalid low surrogate") }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw fail("invalid code point") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw fail("lone low surrogate") }
        return scalar
    }

    func validatedUTF8(_ slice: UnsafeBufferPointer<UInt8>, offset: Int) throws(StrictJSON.ParseError) -> String {
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw StrictJSON.ParseError(message: "invalid UTF-8 in string", offset: offset)
        }
        return string
    }
}
