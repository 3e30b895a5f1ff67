import NIOCore
import Testing

@testable import WritBroker

/// The feed's shared tail of encoded stream events.
@Suite("Recent stream events")
struct RecentEventsTests {
    static func event(_ sequence: UInt64) -> (UInt64, ByteBuffer) { (sequence, ByteBuffer(string: "<\(sequence)>")) }

    static func text(_ result: (events: ArraySlice<ByteBuffer>, through: UInt64)?) -> String? {
        result.map { $0.events.map { String(buffer: $0) }.joined() + "@\($0.through)" }
    }

    @Test("events after any number in the tail come as one buffer; older or newer numbers are the store's")
    func serves() {
        var tail = RecentEvents(through: 10)
        #expect(Self.text(tail.events(after: 10)) == "@10", "nothing new yet")
        tail.append([Self.event(11), Self.event(12), Self.event(14)], after: 10)  // no entry numbered 13
        #expect(Self.text(tail.events(after: 10)) == "<11><12><14>@14")
        #expect(Self.text(tail.events(after: 12)) == "<14>@14")
        #expect(Self.text(tail.events(after: 13)) == "<14>@14")
        #expect(Self.text(tail.events(after: 14)) == "@14")
        #expect(tail.events(after: 9) == nil, "before the tail")
        #expect(tail.events(after: 15) == nil, "beyond what the broker has read")
    }

    @Test("a page overlapping the tail adds only what is new; one that does not join it starts a new tail")
    func joins() {
        var tail = RecentEvents(through: 0)
        tail.append([Self.event(1), Self.event(2)], after: 0)
        tail.append([Self.event(1), Self.event(2), Self.event(3)], after: 0)
        #expect(Self.text(tail.events(after: 0)) == "<1><2><3>@3")
        tail.append([Self.event(6)], after: 5)  // 4 and 5 arrive in a page not yet appended
        #expect(tail.events(after: 3) == nil, "4 and 5 are not held: read from the store")
        #expect(Self.text(tail.events(after: 5)) == "<6>@6")
        tail.append([Self.event(4), Self.event(5), Self.event(6)], after: 3)
        #expect(tail.events(after: 3) == nil, "a page behind the tail does not fill it")
        #expect(Self.text(tail.events(after: 5)) == "<6>@6")
    }

    @Test("the tail keeps the newest entries only")
    func bounded() {
        var tail = RecentEvents(through: 0)
        let total = UInt64(RecentEvents.capacity * 3 + 5)
        for sequence in 1...total { tail.append([Self.event(sequence)], after: sequence - 1) }
        let oldest = total - UInt64(RecentEvents.capacity)
        #expect(tail.floor == oldest)
        #expect(tail.events(after: oldest - 1) == nil)
        #expect(Self.text(tail.events(after: total - 2)) == "<\(total - 1)><\(total)>@\(total)")
        #expect(tail.events(after: oldest)?.events.first.map { String(buffer: $0) } == "<\(oldest + 1)>")
    }
}
