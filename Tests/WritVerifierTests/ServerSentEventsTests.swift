import Testing

@testable import WritVerifier

@Suite("Server-Sent Events")
struct ServerSentEventsTests {
    @Test("the parser handles events split across chunks, comments and multi-line data")
    func parser() {
        var parser = ServerSentEvents()
        #expect(parser.feed(Array("id: 7\nevent: revoc".utf8)).isEmpty)
        let events = parser.feed(
            Array("ation\ndata: {\"a\":1}\n\n: comment\n\nevent: heartbeat\r\ndata: x\ndata: y\n\n".utf8)
        )
        #expect(events.map(\.name) == ["revocation", "heartbeat"])
        #expect(events.first?.id == "7")
        #expect(events.first?.data == "{\"a\":1}")
        #expect(events.last?.data == "x\ny")
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
