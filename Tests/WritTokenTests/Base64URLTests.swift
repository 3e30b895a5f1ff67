import Testing
import WritToken

@Suite("base64url")
struct Base64URLTests {
    @Test("encoding round-trips every length from 0 to 64 bytes")
    func roundTrip() {
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
    }

    @Test(
        "RFC 4648 test vectors, unpadded",
        arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
    )
    func vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test(
        "non-canonical or foreign text is refused",
        arguments: [
            "Zg==", "Zm8=", "Zh", "Zm9", "Z", "ab+/", "ab c", "Zm9v\n", "Zm9vYm%", "Zm9vYmF=",
        ]
    )
    func refused(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}
