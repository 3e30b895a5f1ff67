/// A `/`-separated pattern: `*` inside a segment matches any characters but `/`; a segment that is
/// exactly `**` matches any number of whole segments (zero or more); `{…}` is a template resolved per request.
public struct SegmentPattern: Sendable, Hashable, CustomStringConvertible {
    /// One piece of a segment.
    public enum Piece: Sendable, Hashable {
        case literal(String)
        case star
        case template(Template)
    }

    /// One segment.
    public enum Segment: Sendable, Hashable {
        case anyDepth
        case pieces([Piece])
    }

    /// The segments.
    public let segments: [Segment]
    /// The pattern as written.
    public let source: String
    /// Whether any segment holds a template.
    var hasTemplates: Bool { !templates.isEmpty }

    public var description: String { source }

    /// The templates the pattern uses.
    public let templates: [Template]

    /// Whether the pattern is a plain literal: no wildcard, no template.
    public var isLiteral: Bool {
        segments.allSatisfy { segment in
            guard case .pieces(let pieces) = segment else { return false }
            return pieces.allSatisfy { if case .literal = $0 { return true } else { return false } }
        }
    }

    /// Why a pattern text is unusable.
    public struct SyntaxError: Error, Sendable, Hashable {
        /// What is wrong.
        public let message: String
    }

    /// Parses a pattern.
    public init(_ text: String) throws(SyntaxError) {
        guard !text.isEmpty else { throw SyntaxError(message: "a pattern must not be empty") }
        var segments: [Segment] = []
        for rawSegment in text.split(separator: "/", omittingEmptySubsequences: false) {
            if rawSegment == "**" {
                // One ** keeps matching linear in the identifier; several would multiply the work.
                guard !segments.contains(where: { if case .anyDepth = $0 { true } else { false } }) else {
                    throw SyntaxError(message: "a pattern may hold ** only once")
                }
                segments.append(.anyDepth)
                continue
            }
            if rawSegment.contains("**") { throw SyntaxError(message: "** must be a whole segment") }
            var pieces: [Piece] = []
            var literal = ""
            var rest = rawSegment[...]
            while let character = rest.first {
                rest = rest.dropFirst()
                switch character {
                case "*":
                    if !literal.isEmpty { pieces.append(.literal(literal)) }
                    literal = ""
                    pieces.append(.star)
                case "{":
                    guard let close = rest.firstIndex(of: "}") else { throw SyntaxError(message: "unclosed {") }
                    if !literal.isEmpty { pieces.append(.literal(literal)) }
                    literal = ""
                    let name = String(rest[..<close])
                    guard let template = Template(name) else {
                        throw SyntaxError(message: "unknown template {\(name)}; expected \(Template.documentation)")
                    }
                    pieces.append(.template(template))
                    rest = rest[rest.index(after: close)...]
                case "}": throw SyntaxError(message: "unmatched }")
                default: literal.append(character)
                }
            }
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            segments.append(.pieces(pieces))
        }
        self.segments = segments
        self.source = text
        // Collected once: matching checks them on every request.
        self.templates = segments.flatMap { segment -> [Template] in
            guard case .pieces(let pieces) = segment else { return [] }
            return pieces.compactMap { piece in
                if case .template(let template) = piece { return template }
                return nil
            }
        }
    }

    public static func == (lhs: SegmentPattern, rhs: SegmentPattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// Whether every template of the pattern has a safe value in this context.
    func resolvable(in context: TemplateContext) -> Bool {
        hasTemplates ? templates.allSatisfy { context.value(of: $0) != nil } : true
    }

    /// Whether the pattern matches a literal text; nil when a template has no safe value. Works on the
    /// text's bytes without allocating.
    func matches(_ text: Substring, context: TemplateContext) -> Bool? {
        guard resolvable(in: context) else { return nil }
        return match(0, text.utf8, text.utf8.startIndex, context)
    }

    /// Whether the pattern matches every identifier strictly below `prefix` (the token's `prefix/*`): its
    /// segments match the prefix's one by one until a final `**` takes the rest. Anything subtler is
    /// answered no, which only ever denies. Nil when a template has no safe value.
    func coversEverything(below prefix: Substring, context: TemplateContext) -> Bool? {
        guard resolvable(in: context) else { return nil }
        let text = prefix.utf8
        var position: Substring.UTF8View.Index? = text.startIndex
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .anyDepth: return index == segments.count - 1
            case .pieces(let pieces):
                guard let start = position else { return false }
                let (part, next) = Self.segment(text, from: start)
                guard Self.glob(pieces[...], part, context) else { return false }
                position = next
            }
        }
        return false
    }

    /// Whether the pattern could match some identifier strictly below `prefix`; nil when a template has no
    /// safe value.
    func overlapsSomething(below prefix: Substring, context: TemplateContext) -> Bool? {
        guard resolvable(in: context) else { return nil }
        let text = prefix.utf8
        var position: Substring.UTF8View.Index? = text.startIndex
        var index = 0
        while let start = position {
            guard index < segments.count else { return false }
            switch segments[index] {
            case .anyDepth: return true
            case .pieces(let pieces):
                let (part, next) = Self.segment(text, from: start)
                guard Self.glob(pieces[...], part, context) else { return false }
                position = next
            }
            index += 1
        }
        return index < segments.count
    }

    /// The segment of `text` starting at `start`, and where the next one starts (nil at the end).
    static func segment(
        _ text: Substring.UTF8View,
        from start: Substring.UTF8View.Index
    ) -> (Substring.UTF8View, Substring.UTF8View.Index?) {
        var end = start
        while end < text.endIndex, text[end] != UInt8(ascii: "/") { end = text.index(after: end) }
        return (text[start..<end], end < text.endIndex ? text.index(after: end) : nil)
    }

    private func match(
        _ index: Int,
        _ text: Substring.UTF8View,
        _ position: Substring.UTF8View.Index?,
        _ context: TemplateContext
    ) -> Bool {
        guard index < segments.count else { return position == nil }
        guard let start = position else {
            return segments[index...].allSatisfy { if case .anyDepth = $0 { return true } else { return false } }
        }
        switch segments[index] {
        case .anyDepth:
            if match(index + 1, text, position, context) { return true }
            let (_, next) = Self.segment(text, from: start)
            return match(index, text, next, context)
        case .pieces(let pieces):
            let (part, next) = Self.segment(text, from: start)
            return Self.glob(pieces[...], part, context) && match(index + 1, text, next, context)
        }
    }

    /// Whether one segment's pieces match a text. Stars split the pieces into groups of literals and
    /// templates; the first group must start the text, the last must end it, and the others are found
    /// left to right in between. Greedy leftmost matching is exact for `*`-only globs, and the work is
    /// bounded by the text's length times the pattern's, with no backtracking.
    static func glob(_ pieces: ArraySlice<Piece>, _ text: Substring.UTF8View, _ context: TemplateContext) -> Bool {
        guard let firstStar = pieces.firstIndex(where: isStar), let lastStar = pieces.lastIndex(where: isStar) else {
            return consume(pieces, text, context)?.isEmpty ?? false
        }
        // The group before the first star anchors at the start.
        guard var rest = consume(pieces[..<firstStar], text, context) else { return false }
        // Groups between stars: the leftmost occurrence of each, in order.
        var groupStart = firstStar + 1
        while groupStart <= lastStar {
            let groupEnd = pieces[groupStart...].firstIndex(where: isStar) ?? lastStar
            let group = pieces[groupStart..<groupEnd]
            groupStart = groupEnd + 1
            if group.isEmpty { continue }
            var candidate = rest
            var found: Substring.UTF8View?
            while true {
                if let after = consume(group, candidate, context) {
                    found = after
                    break
                }
                guard !candidate.isEmpty else { break }
                candidate = candidate.dropFirst()
            }
            guard let after = found else { return false }
            rest = after
        }
        // The group after the last star anchors at the end.
        let last = pieces[(lastStar + 1)...]
        guard let length = groupLength(last, context), length <= rest.count else { return false }
        return consume(last, rest.suffix(length), context)?.isEmpty ?? false
    }

    static func isStar(_ piece: Piece) -> Bool {
        if case .star = piece { return true }
        return false
    }

    /// Matches a group of literals and templates at the start of `text`; the rest, or nil.
    static func consume(
        _ group: ArraySlice<Piece>,
        _ text: Substring.UTF8View,
        _ context: TemplateContext
    ) -> Substring.UTF8View? {
        var rest = text
        for piece in group {
            switch piece {
            case .literal(let literal):
                guard let after = prefixed(rest, by: literal.utf8) else { return nil }
                rest = after
            case .template(let template):
                guard let value = context.value(of: template), let after = prefixed(rest, by: value.utf8) else {
                    return nil
                }
                rest = after
            case .star:
                return nil
            }
        }
        return rest
    }

    /// The byte length of a group, or nil when a template has no value.
    static func groupLength(_ group: ArraySlice<Piece>, _ context: TemplateContext) -> Int? {
        var length = 0
        for piece in group {
            switch piece {
            case .literal(let literal): length += literal.utf8.count
            case .template(let template):
                guard let value = context.value(of: template) else { return nil }
                length += value.utf8.count
            case .star: return nil
            }
        }
        return length
    }

    /// The rest of `text` after `prefix`, or nil when `text` does not start with it.
    static func prefixed(_ text: Substring.UTF8View, by prefix: String.UTF8View) -> Substring.UTF8View? {
        var position = text.startIndex
        for byte in prefix {
            guard position < text.endIndex, text[position] == byte else { return nil }
            position = text.index(after: position)
        }
        return text[position...]
    }
}
