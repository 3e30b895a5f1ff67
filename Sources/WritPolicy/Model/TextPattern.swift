import WritToken

/// A pattern over free text (a subject, a purpose, a claim's value): `*` matches any characters, `/`
/// included; everything else is literal and compared byte for byte.
public struct TextPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let source: String
    let pieces: [SegmentPattern.Piece]

    public var description: String { source }

    /// A pattern; never fails, since every text is a valid pattern.
    public init(_ text: String) {
        source = text
        var pieces: [SegmentPattern.Piece] = []
        var literal = ""
        for character in text {
            if character == "*" {
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = ""
                pieces.append(.star)
            } else {
                literal.append(character)
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    /// Whether the text matches.
    public func matches(_ value: some StringProtocol) -> Bool {
        SegmentPattern.glob(pieces[...], Substring(value).utf8, .none)
    }

    public static func == (lhs: TextPattern, rhs: TextPattern) -> Bool { bytesEqual(lhs.source, rhs.source) }
    public func hash(into hasher: inout Hasher) { hasher.combine(Array(source.utf8)) }
}
