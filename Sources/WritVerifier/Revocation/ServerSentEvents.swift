/// An incremental Server-Sent Events parser for the subset the broker sends: `id`, `event` and `data` lines,
/// events separated by a blank line, comment lines (starting with `:`) ignored, lines ending in LF or CRLF.
///
/// It never holds more than ``Limits/maximumLineBytes`` of an unfinished line nor more than
/// ``Limits/maximumEventBytes`` of an unfinished event, and each byte is scanned once: a peer sending one
/// endless line costs bounded memory and linear time, and ends in ``FeedError/Code/oversizedEvent``.
///
/// `package`: `writ monitor --follow` reads the admin event stream with it.
package struct ServerSentEvents {
    /// How much of a line and of an event may be held before the stream counts as hostile.
    package struct Limits: Sendable {
        /// The longest line, without its line ending.
        package var maximumLineBytes: Int
        /// The most field bytes one event may carry, summed over its lines.
        package var maximumEventBytes: Int
    }

    /// A completed event.
    package struct Event: Equatable {
        package var name = "message"
        package var id: String?
        package var data = ""
    }

    /// What a fed chunk completed: events, and comment lines (which servers send to keep a stream alive).
    package enum Message: Equatable {
        case event(Event)
        case comment
    }

    package let limits: Limits
    /// The unfinished line: bytes after the last line ending seen.
    private var pending: [UInt8] = []
    private var current = Event()
    private var hasData = false
    /// Field bytes in the unfinished event.
    private var eventBytes = 0

    package init(limits: Limits = Limits(maximumLineBytes: 64 << 10, maximumEventBytes: 1 << 20)) {
        self.limits = limits
    }

    /// Bytes of an unfinished line held now (for tests: it never exceeds the line limit).
    var bufferedBytes: Int { pending.count }

    /// Feeds bytes; returns the messages they complete, in order. Throws once a line or an event exceeds its
    /// limit; the parser is then spent and the stream should be dropped.
    package mutating func feed<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) throws(FeedError) -> [Message] {
        var messages: [Message] = []
        var start = bytes.startIndex
        // Only the new bytes are searched for a line ending: `pending` is known to hold none.
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let segment = bytes[start..<newline]
            start = bytes.index(after: newline)
            if pending.isEmpty {
                try checkLine(segment.count)
                try line(segment, into: &messages)
            } else {
                try checkLine(pending.count + segment.count)
                pending.append(contentsOf: segment)
                let whole = pending
                pending = []
                try line(whole, into: &messages)
            }
        }
        let rest = bytes[start...]
        try checkLine(pending.count + rest.count)
        pending.append(contentsOf: rest)
        return messages
    }

    private func checkLine(_ count: Int) throws(FeedError) {
        guard count <= limits.maximumLineBytes else {
            throw .oversizedEvent("an event-stream line is longer than \(limits.maximumLineBytes) bytes")
        }
    }

    private mutating func line<Line: BidirectionalCollection<UInt8>>(
        _ raw: Line,
        into messages: inout [Message]
    ) throws(FeedError) {
        var line = raw[...]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.isEmpty {
            if hasData || current.id != nil { messages.append(.event(current)) }
            current = Event()
            hasData = false
            eventBytes = 0
            return
        }
        if line.first == UInt8(ascii: ":") {
            messages.append(.comment)
            return
        }
        eventBytes += line.count
        guard eventBytes <= limits.maximumEventBytes else {
            throw .oversizedEvent("an event-stream event is larger than \(limits.maximumEventBytes) bytes")
        }
        let field: Line.SubSequence
        var value: Line.SubSequence
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line
            value = line[line.endIndex...]
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event": current.name = String(decoding: value, as: UTF8.self)
        case "id": current.id = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData { current.data += "\n" }
            current.data += String(decoding: value, as: UTF8.self)
            hasData = true
        default: break
        }
    }
}
