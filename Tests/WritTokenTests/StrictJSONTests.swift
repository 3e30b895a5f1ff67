import Testing
import WritToken

@Suite("strict JSON")
struct StrictJSONTests {
    @Test("well-formed documents parse to the expected values")
    func parses() throws {
        let value = try StrictJSON().parse(#" {"a":[1,-2,3.5e1,true,false,null],"b":"x\u00e9\ud83d\ude00\n"} "#)
        #expect(
            value
                == .object([
                    "a": .array([.integer(1), .integer(-2), .double(35), .bool(true), .bool(false), .null]),
                    "b": .string("xé😀\n"),
                ])
        )
    }

    @Test(
        "what lenient parsers accept is refused",
        arguments: [
            #"{"a":1,"a":2}"#, #"{"a":1,}"#, "[1,]", "01", "-", "1.", ".5", "1e", "+1", #"{"a":1} x"#, "",
            #""\ud800""#, #""\udc00""#, #""\x""#, "\"tab\there\"", "{'a':1}", "NaN", "Infinity", "[1 2]",
            #"{"a" 1}"#, "tru", "nul", "\u{FEFF}{}", #"{"a":1e999}"#, "\"unterminated",
        ]
    )
    func refused(text: String) {
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON().parse(text) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON().parse(bytes) }
    }

    @Test("nesting beyond the limit is refused, and within it accepted")
    func depth() throws {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON(maximumDepth: 32).parse(deep) }
        let shallow = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try StrictJSON(maximumDepth: 32).parse(shallow)
    }

    @Test("the writer's output parses back to the same value")
    func writerRoundTrip() throws {
        let value: JSONValue = .object([
            "s": .string("quote \" backslash \\ control \u{01} newline \n"), "n": .integer(-42), "d": .double(0.5),
            "a": .array([.null, .bool(true)]), "o": .object(["k": .string("v")]),
        ])
        #expect(try StrictJSON().parse(JSONWriter.string(value)) == value)
    }
}
