import Foundation
public import WritToken

/// A pattern over SPIFFE IDs: a literal trust domain and a path pattern, e.g.
/// `spiffe://example.org/agents/*` or `spiffe://example.org/ci/**`.
public struct SPIFFEPattern: Sendable, Hashable, CustomStringConvertible {
    /// The trust domain, matched exactly.
    public let trustDomain: String
    /// The path pattern, without its leading `/`; nil for the trust domain's own ID.
    let path: SegmentPattern?
    /// The pattern as written.
    public let source: String

    public var description: String { source }

    /// The exact ID, when the pattern has no wildcard.
    public var literal: SPIFFEID? {
        guard path?.isLiteral ?? true else { return nil }
        return try? SPIFFEID(source)
    }

    /// Parses a pattern; its trust domain and literal path segments follow the SPIFFE ID rules.
    public init(_ text: String) throws(SegmentPattern.SyntaxError) {
        guard text.hasPrefix("spiffe://") else { throw .init(message: "a SPIFFE ID pattern starts with spiffe://") }
        let rest = text.dropFirst("spiffe://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let domain = String(rest[..<slash])
        do {
            _ = try SPIFFEID("spiffe://" + domain)
        } catch {
            throw .init(message: "bad trust domain: \(error.reason)")
        }
        trustDomain = domain
        if slash == rest.endIndex {
            path = nil
        } else {
            let pathText = String(rest[rest.index(after: slash)...])
            let pattern = try SegmentPattern(pathText)
            guard pattern.templates.isEmpty else { throw .init(message: "SPIFFE ID patterns take no templates") }
            // Check the literal parts by the SPIFFE rules, with wildcards replaced by a legal character.
            let probe = pathText.replacingOccurrences(of: "**", with: "x").replacingOccurrences(of: "*", with: "x")
            do {
                _ = try SPIFFEID("spiffe://" + domain + "/" + probe)
            } catch {
                throw .init(message: "bad path: \(error.reason)")
            }
            path = pattern
        }
        source = text
    }

    /// Whether an ID matches.
    public func matches(_ id: SPIFFEID) -> Bool {
        guard id.trustDomain == trustDomain else { return false }
        guard let path else { return id.path.isEmpty }
        guard !id.path.isEmpty else { return false }
        return path.matchesLiteral(id.path.dropFirst())
    }
}
