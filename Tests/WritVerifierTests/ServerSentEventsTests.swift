import Testing

@testable import WritVerifier

@Suite("Server-Sent Events", .timeLimit(.minutes(1)))
struct ServerSentEventsTests {
    static func events(_ messages: [ServerSentEvents.Message]) -> [ServerSentEvents.Event] {
        messages.compactMap {
            if case .event(let event) = $0 { return event }
            return nil
        }
    }

    @Test("the parser handles events split across chunks, comments and multi-line data")
    func parser() throws {
        var parser = ServerSentEvents()
        #expect(try parser.feed(Array("id: 7\nevent: revoc".utf8)).isEmpty)
        let messages = try parser.feed(
            Array("ation\ndata: {\"a\":1}\n\n: comment\n\nevent: heartbeat\r\ndata: x\ndata: y\n\n".utf8)
        )
        let events = Self.events(messages)
        #expect(events.map(\.name) == ["revocation", "heartbeat"])
        #expect(events.first?.id == "7")
        #expect(events.first?.data == "{\"a\":1}")
        #expect(events.last?.data == "x\ny")
        #expect(messages.count == 3, "the comment line is reported, so it can keep a stream alive")
        #expect(messages[1] == .comment)
    }

    @Test("an event split at every byte comes out whole")
    func byteByByte() throws {
        var parser = ServerSentEvents()
        var events: [ServerSentEvents.Event] = []
        for byte in "event: revocation\r\nid: 9\r\ndata: {\"x\":true}\r\n\r\n".utf8 {
            events += Self.events(try parser.feed([byte]))
        }
        #expect(events == [ServerSentEvents.Event(name: "revocation", id: "9", data: "{\"x\":true}")])
    }

    @Test("an endless line without a newline is refused once it passes the line limit, holding no more than it")
    func endlessLine() throws {
        var parser = ServerSentEvents(limits: .init(maximumLineBytes: 64 << 10, maximumEventBytes: 1 << 20))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        var fed = 0
        var refusal: FeedError?
        // 64 MiB would be fed if nothing stopped it; the parser must give up after about 64 KiB.
        while fed < 64 << 20 {
            do {
                _ = try parser.feed(chunk)
            } catch {
                refusal = error
                break
            }
            fed += chunk.count
            #expect(parser.bufferedBytes <= 64 << 10)
        }
        #expect(refusal?.code == .oversizedEvent)
        #expect(fed <= 64 << 10, "gave up only after \(fed) bytes")
    }

    @Test("an event of many short lines is refused once it passes the event limit")
    func endlessEvent() throws {
        var parser = ServerSentEvents(limits: .init(maximumLineBytes: 1024, maximumEventBytes: 16 << 10))
        let line = Array("data: \(String(repeating: "x", count: 500))\n".utf8)
        var lines = 0
        var refusal: FeedError?
        while lines < 10_000 {
            do {
                #expect(try parser.feed(line).isEmpty)
            } catch {
                refusal = error
                break
            }
            lines += 1
        }
        #expect(refusal?.code == .oversizedEvent)
        #expect(lines < 40, "gave up only after \(lines) lines")
    }

    @Test("a line exactly at the limit is accepted; one byte more is not")
    func limitBoundary() throws {
        let limits = ServerSentEvents.Limits(maximumLineBytes: 16, maximumEventBytes: 1024)
        var atLimit = ServerSentEvents(limits: limits)
        let events = Self.events(try atLimit.feed(Array("data: 0123456789\n\n".utf8)))
        #expect(events.map(\.data) == ["0123456789"])
        var over = ServerSentEvents(limits: limits)
        #expect(throws: FeedError.oversizedEvent("")) { try over.feed(Array("data: 01234567890\n\n".utf8)) }
    }

    @Test("feeding is linear: a long line arriving in small chunks is not rescanned")
    func linear() throws {
        // 1 MiB in 16-byte chunks: a parser that rescans its buffer per chunk does ~32 G byte comparisons
        // here and would run far past the time limit; an incremental one does 1 M.
        var parser = ServerSentEvents(limits: .init(maximumLineBytes: 2 << 20, maximumEventBytes: 4 << 20))
        let chunk = [UInt8](repeating: UInt8(ascii: "b"), count: 16)
        let start = ContinuousClock.now
        for _ in 0..<(1 << 16) { _ = try parser.feed(chunk) }
        let events = Self.events(try parser.feed(Array("\n\n".utf8)))
        #expect(events.isEmpty, "a line with no field separator names an unknown field and is ignored")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("skipping pruned entries closes the gap they would leave")
    func skip() {
        let view = InMemoryRevocationView()
        view.skip(through: 5)
        #expect(view.lastSequence == 5)
        view.skip(through: 3)
        #expect(view.lastSequence == 5)
    }
}
