import Foundation

/// The normal form of an HTTP(S) URI for comparing DPoP `htu` values (RFC 9449 §4.3 and RFC 3986 §6):
/// scheme and host in lower case, the default port dropped, an empty path as `/`, dot segments removed,
/// percent-encodings in upper case and unreserved characters decoded, query and fragment dropped.
public enum HTTPURI {
    /// The normal form, or nil when the text is not an absolute http or https URI without userinfo.
    public static func normalized(_ text: String) -> String? {
        // A URI is ASCII without spaces or controls; anything else must arrive percent-encoded.
        guard text.utf8.count <= 4096, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let schemeEnd = text.range(of: "://")
        else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = text[schemeEnd.upperBound...]
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<pathStart]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        guard let host = normalizedAuthority(authority.lowercased(), scheme: scheme) else { return nil }
        guard let path = normalizedPath(String(rest[pathStart...])) else { return nil }
        return "\(scheme)://\(host)\(path)"
    }

    /// The host (a registered name or a bracketed IP literal) and the port (digits only), lower-cased, with
    /// an empty or default port dropped; nil for anything else.
    private static func normalizedAuthority(_ authority: String, scheme: String) -> String? {
        var host = Substring(authority)
        var port: Substring = ""
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let literal = host[host.index(after: host.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { return nil }
                port = rest.dropFirst()
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard !host.isEmpty, host.allSatisfy(hostCharacters.contains) else { return nil }
        }
        guard port.allSatisfy({ $0 >= "0" && $0 <= "9" }), port.count <= 5 else { return nil }
        if port.isEmpty || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
            return String(host)
        }
        return "\(host):\(port)"
    }

    private static let hostCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%")
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    private static func normalizedPath(_ path: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(path.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let high = hexValue(iterator.removeFirst()),
                    let low = hexValue(iterator.removeFirst())
                else { return nil }
                let decoded = high << 4 | low
                if unreserved.contains(decoded) {
                    bytes.append(decoded)
                } else {
                    let hex = Array("0123456789ABCDEF".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "%"), hex[Int(high)], hex[Int(low)]])
                }
            } else {
                bytes.append(byte)
            }
        }
        let segments = String(decoding: bytes, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false)
        var output: [Substring] = []
        for (position, segment) in segments.enumerated() where position > 0 {
            switch segment {
            case ".": if position == segments.count - 1 { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if position == segments.count - 1 { output.append("") }
            default: output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
