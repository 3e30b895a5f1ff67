/// A request carried as parameters rather than JSON: an `application/x-www-form-urlencoded` body (the OAuth
/// endpoints) or a URL query. Parameters the type does not know are ignored, as RFC 6749 §3.2 requires of
/// a token endpoint and as every query here has always done; parameters it does know are checked by name.
public protocol WireParameters: Sendable, Hashable {
    /// Reads the parameters (each name once, already percent-decoded).
    init(parameters: [String: String]) throws(WireError)
    /// The parameters to send, in a fixed order; absent ones are left out.
    var parameters: [(String, String)] { get }
}

extension WireParameters {
    /// The parameters percent-encoded and joined with `&`: a form body, or a query without its `?`.
    public var encoded: String {
        parameters.map { "\(WirePath.escape($0.0))=\(WirePath.escape($0.1))" }.joined(separator: "&")
    }

    /// The query to append to a path: `?` and the parameters, or nothing when there are none.
    public var query: String {
        let text = encoded
        return text.isEmpty ? "" : "?" + text
    }
}

/// Reading parameters by name.
enum WireParameter {
    /// A non-negative integer written in decimal digits only (no sign, no spaces), or nil when absent.
    static func number(_ parameters: [String: String], _ name: String) throws(WireError) -> UInt64? {
        guard let text = parameters[name] else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = UInt64(text)
        else { throw .invalidValue(at: name, "must be a non-negative integer") }
        return value
    }

    /// `true` or `false`, or nil when absent.
    static func flag(_ parameters: [String: String], _ name: String) throws(WireError) -> Bool? {
        switch parameters[name] {
        case nil: return nil
        case "true": return true
        case "false": return false
        default: throw .invalidValue(at: name, "must be true or false")
        }
    }

    /// A required parameter.
    static func required(_ parameters: [String: String], _ name: String) throws(WireError) -> String {
        guard let value = parameters[name] else { throw .missingMember(at: name) }
        return value
    }
}

/// Percent-encoding for paths, queries and forms.
public enum WirePath {
    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(Character(Unicode.Scalar(byte)))
            default:
                output.append("%")
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }
}
