import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a secret or a key may travel over plain http: only to this machine. The decision is made on the
/// parsed host, never on the URL's text, so `http://127.0.0.1.evil.example` or `http://localhost@evil.example`
/// cannot pass for loopback. The CLI (the operator token) and the broker (identity keys, its own addresses)
/// both ask here.
public enum PlainHTTPPolicy {
    /// What a URL may be used for.
    public enum Verdict: Sendable, Hashable {
        /// https: usable anywhere.
        case encrypted
        /// Plain http to this machine: usable, nothing crosses a network.
        case loopback
        /// Plain http to another host: whatever is sent crosses the network in clear. Refused unless the
        /// operator explicitly accepts it.
        case plainToOtherHost(host: String)
        /// Not usable at all.
        case refused(Refusal)
    }

    /// Why a URL is not usable.
    public enum Refusal: String, Sendable, Hashable, CustomStringConvertible {
        /// Not an absolute http or https URL with a host.
        case notHTTPURL = "not_http_url"
        /// It carries `user@` or `user:password@`: the part before `@` is easily mistaken for the host.
        case userinfo = "userinfo_in_url"
        /// A numeric host in a shorthand (`127.1`), hexadecimal (`0x7f.0.0.1`) or zero-padded form, which
        /// parsers and resolvers read differently.
        case ambiguousAddress = "ambiguous_address"

        /// What is wrong, in a sentence fragment.
        public var description: String {
            switch self {
            case .notHTTPURL: "it is not an absolute http:// or https:// URL with a host"
            case .userinfo: "it carries a user name before @, which hides the real host; remove it"
            case .ambiguousAddress:
                "its numeric host is not written as four decimal numbers (as 127.0.0.1), so programs read it "
                    + "differently; write the address in full"
            }
        }
    }

    /// The verdict on a URL.
    public static func verdict(for text: String) -> Verdict {
        // Only printable ASCII: a backslash, space or control character is where URL parsers disagree.
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let rawHost = components.percentEncodedHost, !rawHost.isEmpty,
            text.lowercased().hasPrefix(scheme + "://")
        else { return .refused(.notHTTPURL) }
        if components.percentEncodedUser != nil || components.percentEncodedPassword != nil
            || authorityText(of: text, scheme: scheme).contains("@")
        {
            return .refused(.userinfo)
        }
        // A percent-encoded host (`localhost%2eevil`) is another name, never loopback.
        let host = rawHost.lowercased()
        if isNumericLooking(host), ipv4(host) == nil { return .refused(.ambiguousAddress) }
        if scheme == "https" { return .encrypted }
        return isLoopback(host: host) ? .loopback : .plainToOtherHost(host: host)
    }

    /// Whether a host (as in a URL or a listen address) is this machine: an IPv4 literal in 127.0.0.0/8
    /// written as four decimal numbers, the IPv6 literal `::1` (with or without brackets), or exactly
    /// `localhost` in any case. Anything else, including IPv4-mapped IPv6 forms, is another host.
    public static func isLoopback(host: String) -> Bool {
        var host = host.lowercased()
        if host == "localhost" { return true }
        if let octets = ipv4(host) { return octets[0] == 127 }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard host.contains(":"), let bytes = ipv6(host) else { return false }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The text between `scheme://` and the first `/`, `?` or `#`.
    private static func authorityText(of text: String, scheme: String) -> Substring {
        let rest = text.dropFirst(scheme.count + 3)
        return rest[..<(rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex)]
    }

    /// Whether a host would be read as an IPv4 address by a WHATWG URL parser or `inet_aton`: its last label
    /// is a decimal or hexadecimal number.
    private static func isNumericLooking(_ host: String) -> Bool {
        guard !host.contains(":"), !host.hasPrefix("[") else { return false }
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last == "" { labels.removeLast() }
        guard let last = labels.last, !last.isEmpty else { return false }
        if last.allSatisfy(\.isASCIIDigit) { return true }
        return last.hasPrefix("0x") && last.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    /// The four octets of a dotted-quad written the one unambiguous way: four decimal numbers of at most
    /// 255, without leading zeros.
    private static func ipv4(_ host: String) -> [UInt8]? {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 4 else { return nil }
        var octets: [UInt8] = []
        for label in labels {
            guard !label.isEmpty, label.count <= 3, label.allSatisfy(\.isASCIIDigit),
                label == "0" || !label.hasPrefix("0"), let value = UInt8(label)
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// The sixteen bytes of an IPv6 literal, or nil.
    private static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
