/// `application/x-www-form-urlencoded` bodies, strictly: a parameter may appear once (RFC 6749 §3.2),
/// names and values must be valid percent-encoded UTF-8.
enum FormBody {
    static func parse(_ bytes: [UInt8]) throws(BrokerError) -> [String: String] {
        var result: [String: String] = [:]
        guard !bytes.isEmpty else { return result }
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            guard !pair.isEmpty else { throw BrokerError(.invalidRequest, "the form has an empty parameter") }
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let name = decode(parts[0]), let value = decode(parts[1]), !name.isEmpty else {
                throw BrokerError(.invalidRequest, "the form is not valid application/x-www-form-urlencoded")
            }
            // No store keeps a NUL in text the same way (PostgreSQL refuses it), and no parameter needs one.
            guard !name.utf8.contains(0), !value.utf8.contains(0) else {
                throw BrokerError(.invalidRequest, "a parameter holds a NUL character (%00); no parameter may")
            }
            guard result[name] == nil else {
                throw BrokerError(.invalidRequest, "parameter \(name.prefix(64)) appears more than once")
            }
            result[name] = value
        }
        return result
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 2
            default:
                output.append(byte)
            }
            index += 1
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
