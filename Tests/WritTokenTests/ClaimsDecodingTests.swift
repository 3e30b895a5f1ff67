import Foundation
import Testing
import WritTestSupport
import WritToken

/// The one-pass claims decoder against the tree-based reference: on every input both accept the same claims, or
/// both refuse with the same code. The inputs are valid claim sets of every shape, each member removed,
/// retyped, duplicated or spelled with escapes, whitespace everywhere, and every prefix of a payload.
@Suite("claims decoded in one pass")
struct ClaimsDecodingTests {
    /// Claim sets of every shape the profile allows.
    static let claimSets: [AccessTokenClaims] = {
        var sets: [AccessTokenClaims] = []
        var plain = TestIdentity.claims()
        sets.append(plain)
        plain.actorChain = []
        plain.purpose = nil
        sets.append(plain)
        var delegated = TestIdentity.claims()
        delegated.actorChain = (0..<AccessTokenClaims.maximumActorDepth).map { index in
            try! SPIFFEID("spiffe://example.org/agents/a\(index)")
        }
        sets.append(delegated)
        sets.append(
            TestIdentity.claims(confirmation: .dpop(jwkThumbprint: Base64URL.encode([UInt8](repeating: 7, count: 32))))
        )
        sets.append(
            TestIdentity.claims(
                confirmation: .mutualTLS(certificateThumbprint: Base64URL.encode([UInt8](repeating: 9, count: 32)))
            )
        )
        var rich = TestIdentity.claims(details: [
            AuthorizationDetail(
                type: "refund",
                actions: ["create", "réfund", "😀"],
                locations: ["https://docs.writ.test", "https://other.writ.test"],
                identifier: "",
                datatypes: ["pii"],
                extensions: [
                    "maximum_amount": .integer(100), "ratio": .double(0.25), "flag": .bool(false), "none": .null,
                    "nested": .object(["a": .array([.integer(1), .object(["b": .string("c\n\"\\")])])]),
                    "clé": .string("NFC é"),
                ]
            ),
            AuthorizationDetail(type: "document", actions: []),
        ])
        rich.notBefore = TestIdentity.now
        rich.subject = "spiffe://example.org/agents/retrieval"
        sets.append(rich)
        sets.append(TestIdentity.claims(details: []))
        var listed = TestIdentity.claims()
        listed.status = StatusListReference(index: 7, uri: "https://broker.writ.test/v1/status-lists/k.0")
        sets.append(listed)
        return sets
    }()

    /// JSON values put in place of a member's value.
    static let replacements: [JSONValue] = [
        .null, .bool(true), .integer(0), .integer(-1), .integer(1_800_000_000), .integer(Int64.max), .double(1.5),
        .double(-0.0), .string(""), .string("x"), .string("spiffe://example.org/agents/x"), .string("SPIFFE://x"),
        .string("é"), .array([]), .array([.string("https://docs.writ.test")]),
        .array([.string("https://docs.writ.test"), .string("b")]), .array([.integer(1)]), .array([.string("")]),
        .object([:]), .object(["sub": .string("spiffe://example.org/x")]),
        .object(["sub": .string("spiffe://example.org/x"), "act": .string("y")]), .object(["jkt": .string("x")]),
        .object(["type": .string("t")]), .object(["type": .string("t"), "privileges": .array([])]),
        .array([.object(["type": .string("t"), "actions": .array([.string("a")])])]), .array([.string("t")]),
        nested(depth: 14), nested(depth: 15), nested(depth: 20),
        .object(["status_list": .object(["idx": .integer(-1), "uri": .string("u")])]),
        .object(["status_list": .object(["idx": .integer(3), "uri": .string("")])]),
        .object(["status_list": .object(["idx": .string("3"), "uri": .string("u")])]),
        .object(["status_list": .object(["idx": .integer(3), "uri": .string("u"), "x": nested(depth: 20)])]),
        .object(["status_list": .string("x")]), .object(["other": .integer(1)]),
    ]

    static func nested(depth: Int) -> JSONValue {
        var value = JSONValue.integer(1)
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    static func members(_ claims: AccessTokenClaims) -> [String: JSONValue] { claims.json.objectValue! }

    /// Every input: each claim set as is, with a member removed, replaced or added, its first detail's and
    /// actor's members edited likewise.
    static let edited: [[UInt8]] = {
        var inputs: [[UInt8]] = []
        for claims in claimSets {
            let object = members(claims)
            inputs.append(JSONWriter.bytes(.object(object)))
            for name in object.keys.sorted() {
                var removed = object
                removed[name] = nil
                inputs.append(JSONWriter.bytes(.object(removed)))
                for value in replacements {
                    var replaced = object
                    replaced[name] = value
                    inputs.append(JSONWriter.bytes(.object(replaced)))
                }
            }
            for value in replacements {
                var added = object
                added["other"] = value
                inputs.append(JSONWriter.bytes(.object(added)))
            }
            if case .array(var details)? = object["authorization_details"], case .object(let first)? = details.first {
                for name in Array(first.keys) + ["privileges", "locations", "datatypes", "identifier", "extra"] {
                    var removed = first
                    removed[name] = nil
                    details[0] = .object(removed)
                    var edited = object
                    edited["authorization_details"] = .array(details)
                    inputs.append(JSONWriter.bytes(.object(edited)))
                    for value in replacements {
                        var replaced = first
                        replaced[name] = value
                        details[0] = .object(replaced)
                        edited["authorization_details"] = .array(details)
                        inputs.append(JSONWriter.bytes(.object(edited)))
                    }
                }
            }
            if case .object(let actor)? = object["act"] {
                for name in ["sub", "act", "other"] {
                    for value in replacements + [.object(actor)] {
                        var replaced = actor
                        replaced[name] = value
                        var edited = object
                        edited["act"] = .object(replaced)
                        inputs.append(JSONWriter.bytes(.object(edited)))
                    }
                }
            }
        }
        return inputs
    }()

    /// Textual edits JSONValue cannot express: duplicates, escaped names, whitespace, trailing content.
    static let textual: [String] = {
        let base = String(decoding: JSONWriter.bytes(members(claimSets[5]).json), as: UTF8.self)
        var texts: [String] = [base]
        let names = [
            "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "txn", "purp", "scope", "act",
            "authorization_details", "type", "actions", "identifier", "maximum_amount", "clé", "cnf", "jkt",
        ]
        for name in names {
            // The member again at the front of its object, and its name spelled with escapes.
            let quoted = "\"\(name)\":"
            if let range = base.range(of: quoted) {
                let valueStart = range.upperBound
                let prefix = base[..<range.lowerBound]
                if let open = prefix.lastIndex(where: { $0 == "{" }) {
                    var duplicated = base
                    duplicated.insert(contentsOf: "\"\(name)\":0,", at: duplicated.index(after: open))
                    texts.append(duplicated)
                }
                let escaped = name.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
                texts.append(base.replacingCharacters(in: range, with: "\"\(escaped)\":"))
                texts.append(base.replacingCharacters(in: range, with: "\"\(escaped)\":0,\"\(name)\":"))
                texts.append(String(base[..<valueStart]) + " \n\t" + String(base[valueStart...]))
            }
        }
        texts.append(base.replacingOccurrences(of: ",", with: " , ").replacingOccurrences(of: ":", with: " :\r\n"))
        texts.append(base.replacingOccurrences(of: "{", with: "{ ").replacingOccurrences(of: "[", with: "[ "))
        texts.append(" \n" + base + " \n")
        texts.append(base + "x")
        texts.append(base + "{}")
        texts.append(base.replacingOccurrences(of: "]", with: ",]"))
        texts.append(base.replacingOccurrences(of: "}", with: ",}"))
        texts.append(base.replacingOccurrences(of: "\"clé\"", with: "\"cle\u{301}\":1,\"clé\""))
        texts.append(base.replacingOccurrences(of: "hr/", with: "hr\\/"))
        texts.append(base.replacingOccurrences(of: "refund", with: "re\\ud800fund"))
        texts.append(base.replacingOccurrences(of: "refund", with: "re\u{1}fund"))
        texts.append("[]")
        texts.append("{}")
        texts.append("")
        texts.append("null")
        return texts
    }()

    /// An object's text with `key` written twice, the first time as `name` (the key itself or an escaped spelling),
    /// with the same value both times: only the duplicate is wrong.
    static func duplicated(_ key: String, as name: String, in object: [String: JSONValue]) -> String {
        "{\"\(name)\":" + JSONWriter.string(object[key]!) + "," + JSONWriter.string(.object(object)).dropFirst()
    }

    /// An object's text with the member `key` written as `inner`.
    static func embed(_ inner: String, at key: String, in object: [String: JSONValue]) -> String {
        var marked = object
        marked[key] = .string("@inner@")
        return JSONWriter.string(.object(marked)).replacingOccurrences(of: "\"@inner@\"", with: inner)
    }

    static func escaped(_ name: String) -> String {
        name.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
    }

    /// Every member of the payload, of its first authorization detail and of its actor, written twice.
    static let duplicates: [String] = {
        var texts: [String] = []
        for claims in claimSets {
            let object = members(claims)
            for key in object.keys.sorted() {
                for name in [key, escaped(key)] { texts.append(duplicated(key, as: name, in: object)) }
            }
            if case .array(let details)? = object["authorization_details"], case .object(let first)? = details.first {
                let rest = details.dropFirst().map { "," + JSONWriter.string($0) }.joined()
                for key in first.keys.sorted() {
                    for name in [key, escaped(key)] {
                        let inner = "[" + duplicated(key, as: name, in: first) + rest + "]"
                        texts.append(embed(inner, at: "authorization_details", in: object))
                    }
                }
            }
            if case .object(let actor)? = object["act"] {
                for key in actor.keys.sorted() {
                    for name in [key, escaped(key)] {
                        texts.append(embed(duplicated(key, as: name, in: actor), at: "act", in: object))
                    }
                }
            }
        }
        return texts
    }()

    static func compare(_ bytes: [UInt8]) {
        let decoded = Result { () throws(VerificationError) in try AccessTokenClaims(jsonBytes: bytes) }
        let reference = Result { () throws(VerificationError) in try ReferenceClaimsDecoder.decode(bytes) }
        let text = String(decoding: bytes, as: UTF8.self)
        switch (decoded, reference) {
        case (.success(let claims), .success(let expected)):
            #expect(claims == expected, "\(text)")
        case (.failure(let error), .failure(let expected)):
            #expect(error.code == expected.code, "\(text): \(error.reason) / \(expected.reason)")
        case (.success, .failure(let expected)):
            Issue.record("accepted what the reference refuses (\(expected.reason)): \(text)")
        case (.failure(let error), .success):
            Issue.record("refused what the reference accepts (\(error.reason)): \(text)")
        }
    }

    @Test("claim sets of every shape decode to the claims they were written from")
    func roundTrip() throws {
        for claims in Self.claimSets {
            #expect(try AccessTokenClaims(jsonBytes: JSONWriter.bytes(claims.json)) == claims)
            #expect(try AccessTokenClaims(json: claims.json) == claims)
        }
    }

    @Test("edited members: the same claims or the same refusal as the tree-based reference")
    func editedMembers() {
        #expect(Self.edited.count > 1000)
        for input in Self.edited { Self.compare(input) }
    }

    @Test("duplicates, escapes, whitespace and trailing content: the same outcome as the reference")
    func textualEdits() {
        for text in Self.textual { Self.compare(Array(text.utf8)) }
    }

    @Test("a member written twice, at any depth and however spelled, is refused as the reference refuses it")
    func duplicateMembers() {
        #expect(Self.duplicates.count > 100)
        for text in Self.duplicates {
            Self.compare(Array(text.utf8))
            #expect(throws: VerificationError.malformed("")) { try AccessTokenClaims(jsonBytes: Array(text.utf8)) }
        }
    }

    @Test("every prefix of a payload is refused as the reference refuses it")
    func prefixes() {
        let bytes = JSONWriter.bytes(Self.claimSets[5].json)
        for end in 0..<bytes.count { Self.compare(Array(bytes[..<end])) }
    }

    @Test("invalid UTF-8 in a name or a value is refused")
    func invalidUTF8() {
        let base = Array(JSONWriter.bytes(Self.claimSets[0].json))
        for offset in base.indices where base[offset] == UInt8(ascii: "e") {
            var edited = base
            edited[offset] = 0xC3
            Self.compare(edited)
        }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    fileprivate var json: JSONValue { .object(self) }
}
