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
    /// The pattern ready to match, when it has no templates.
    let fixed: ResolvedPattern?

    public var description: String { source }

    /// The templates the pattern uses.
    public var templates: [Template] {
        segments.flatMap { segment -> [Template] in
            guard case .pieces(let pieces) = segment else { return [] }
            return pieces.compactMap { piece in
                if case .template(let template) = piece { return template }
                return nil
            }
        }
    }

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
        let unresolved = SegmentPattern(segments: segments, source: text, fixed: nil)
        let fixed = unresolved.templates.isEmpty ? unresolved.resolved(TemplateContext.none) : nil
        self.init(segments: segments, source: text, fixed: fixed)
    }

    private init(segments: [Segment], source: String, fixed: ResolvedPattern?) {
        self.segments = segments
        self.source = source
        self.fixed = fixed
    }

    public static func == (lhs: SegmentPattern, rhs: SegmentPattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// Resolves templates for a request; nil when a template has no safe value.
    func resolved(_ context: TemplateContext) -> ResolvedPattern? {
        if let fixed { return fixed }
        var result: [ResolvedPattern.Segment] = []
        result.reserveCapacity(segments.count)
        for segment in segments {
            switch segment {
            case .anyDepth: result.append(.anyDepth)
            case .pieces(let pieces):
                var glob: [ResolvedPattern.Piece] = []
                for piece in pieces {
                    switch piece {
                    case .literal(let text): glob.append(.literal(text))
                    case .star: glob.append(.star)
                    case .template(let template):
                        guard let value = context.value(of: template) else { return nil }
                        glob.append(.literal(value))
                    }
                }
                result.append(.glob(glob))
            }
        }
        return ResolvedPattern(segments: result)
    }
}

/// A pattern whose templates are resolved: what matching works on.
struct ResolvedPattern: Sendable, Hashable {
    enum Piece: Sendable, Hashable {
        case literal(String)
        case star
    }

    enum Segment: Sendable, Hashable {
        case anyDepth
        case glob([Piece])
    }

    let segments: [Segment]

    /// Whether the pattern matches a literal identifier.
    func matches(_ identifier: String) -> Bool {
        let parts = identifier.split(separator: "/", omittingEmptySubsequences: false)
        return Self.match(segments[...], parts[...])
    }

    /// Whether the pattern matches every identifier strictly below `prefix` (the token's `prefix/*`): its
    /// segments match the prefix's one by one until a final `**` takes the rest. Anything subtler is
    /// answered no, which only ever denies.
    func coversEverything(below prefix: String) -> Bool {
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false)
        for (position, segment) in segments.enumerated() {
            switch segment {
            case .anyDepth: return position == segments.count - 1
            case .glob(let pieces):
                guard position < parts.count, Self.glob(pieces[...], parts[position][...]) else { return false }
            }
        }
        return false
    }

    /// Whether the pattern could match some identifier strictly below `prefix`.
    func overlapsSomething(below prefix: String) -> Bool {
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false)
        var remaining = segments[...]
        for part in parts {
            guard let segment = remaining.first else { return false }
            switch segment {
            case .anyDepth: return true
            case .glob(let pieces): if !Self.glob(pieces[...], part[...]) { return false }
            }
            remaining = remaining.dropFirst()
        }
        return !remaining.isEmpty
    }

    static func match(_ segments: ArraySlice<Segment>, _ parts: ArraySlice<Substring>) -> Bool {
        guard let first = segments.first else { return parts.isEmpty }
        switch first {
        case .anyDepth:
            var rest = parts
            while true {
                if match(segments.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case .glob(let pieces):
            guard let part = parts.first, glob(pieces[...], part[...]) else { return false }
            return match(segments.dropFirst(), parts.dropFirst())
        }
    }

    static func glob(_ pieces: ArraySlice<Piece>, _ text: Substring) -> Bool {
        guard let first = pieces.first else { return text.isEmpty }
        switch first {
        case .literal(let literal):
            guard text.hasPrefix(literal) else { return false }
            return glob(pieces.dropFirst(), text.dropFirst(literal.count))
        case .star:
            var rest = text
            while true {
                if glob(pieces.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
    }
}
