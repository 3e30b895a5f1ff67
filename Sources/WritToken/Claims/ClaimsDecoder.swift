import Foundation

/// Reads an access token's claims straight from the payload bytes, in one pass.
///
/// The JSON rules are ``StrictJSON``'s, through the same ``JSONCursor``: no duplicate name at any depth, valid
/// UTF-8, no lone surrogate, nesting at most 16 deep, nothing after the object. The claim rules are the
/// profile's: required claims present with their types, exactly one `aud`, `client_id` and every `act` `sub` a
/// SPIFFE ID, the RFC 9396 common members of `authorization_details` typed. Known names are matched on their
/// bytes and each value is read into its type where it stands, so no tree of the payload is built; what the
/// profile does not know is still parsed, so still refused when it is not strict JSON, and then ignored.
struct ClaimsDecoder {
    /// The deepest nesting of arrays and objects accepted in a payload.
    static let maximumDepth = 16

    private var cursor: JSONCursor
    private var issuer: String?
    private var subject: String?
    private var audience: String?
    private var expiresAt: Date?
    private var issuedAt: Date?
    private var notBefore: Date?
    private var tokenID: String?
    private var clientID: SPIFFEID?
    private var actorChain: [SPIFFEID] = []
    private var taskID: String?
    private var purpose: String?
    private var details: [AuthorizationDetail]?
    private var confirmation: Confirmation?
    private var status: StatusListReference?
    private var seen: UInt32 = 0
    private var seenOther: Set<String> = []

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        cursor = JSONCursor(bytes: bytes, maximumDepth: Self.maximumDepth)
    }

    /// Decodes a whole payload.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(VerificationError) -> AccessTokenClaims {
        var decoder = ClaimsDecoder(bytes: bytes)
        do {
            try decoder.readObject()
        } catch let error as VerificationError {
            throw error
        } catch let error as StrictJSON.ParseError {
            throw .malformed("the payload is not strict JSON: \(error.message)")
        } catch {
            throw .malformed("the payload is not strict JSON")
        }
        return try decoder.build()
    }

    // MARK: - The payload object

    private mutating func readObject() throws {
        cursor.skipWhitespace()
        guard cursor.peek == Byte.openBrace else { throw cursor.fail("expected a JSON object") }
        if try enter(depth: 1, closing: Byte.closeBrace) {
            repeat {
                let name = try memberName()
                try readClaim(name)
            } while try nextMember(closing: Byte.closeBrace)
        }
        cursor.skipWhitespace()
        guard cursor.index == cursor.bytes.count else {
            throw StrictJSON.ParseError(message: "trailing content after the JSON value", offset: cursor.index)
        }
    }

    private mutating func readClaim(_ name: MemberName) throws {
        guard let claim = name.match(Claim.init) else {
            // Unknown claims are ignored (RFC 7519), but they are still strict JSON, and still never twice.
            let text = name.text
            guard seenOther.insert(text).inserted else {
                throw VerificationError.malformed("duplicate member \"\(text.prefix(32))\"")
            }
            _ = try cursor.parseValue(depth: 1)
            return
        }
        guard seen & claim.bit == 0 else { throw VerificationError.malformed("duplicate member \"\(name.text)\"") }
        seen |= claim.bit
        switch claim {
        case .issuer: issuer = try nonEmptyString("iss", depth: 1)
        case .subject: subject = try nonEmptyString("sub", depth: 1)
        case .audience: audience = try readAudience()
        case .expiresAt: expiresAt = try date("exp")
        case .issuedAt: issuedAt = try date("iat")
        case .notBefore: notBefore = try date("nbf")
        case .tokenID: tokenID = try nonEmptyString("jti", depth: 1)
        case .clientID: clientID = try readClientID()
        case .taskID: taskID = try nonEmptyString("txn", depth: 1)
        case .purpose: purpose = try nonEmptyString("purp", depth: 1)
        case .scope:
            // Derived from the grant, so only its type matters; read without keeping it.
            guard cursor.peek == Byte.quote else {
                _ = try cursor.parseValue(depth: 1)
                throw VerificationError.malformed("scope must be a string")
            }
            if try cursor.parsePlainASCIIString() == nil { _ = try cursor.parseString() }
        case .confirmation: confirmation = try Confirmation(json: cursor.parseValue(depth: 1))
        case .actor: actorChain = try actors(level: 0, depth: 2)
        case .authorizationDetails: details = try readDetails()
        case .status: status = try readStatus()
        }
    }

    private mutating func build() throws(VerificationError) -> AccessTokenClaims {
        // `take()` moves each decoded value into the claim set rather than copying it.
        guard let issuer = issuer.take() else { throw .malformed("iss must be a non-empty string") }
        guard let subject = subject.take() else { throw .malformed("sub must be a non-empty string") }
        guard let audience = audience.take() else { throw .malformed("aud must be a non-empty string") }
        guard let expiresAt else { throw .malformed("exp is required") }
        guard let issuedAt else { throw .malformed("iat is required") }
        guard let tokenID = tokenID.take() else { throw .malformed("jti must be a non-empty string") }
        guard let clientID = clientID.take() else { throw .malformed("client_id must be a non-empty string") }
        guard let taskID = taskID.take() else { throw .malformed("txn must be a non-empty string") }
        guard let details = details.take() else { throw .malformed("authorization_details must be an array") }
        return AccessTokenClaims(
            issuer: issuer,
            subject: subject,
            audience: audience,
            expiresAt: expiresAt,
            issuedAt: issuedAt,
            notBefore: notBefore,
            tokenID: tokenID,
            clientID: clientID,
            actorChain: actorChain,
            taskID: taskID,
            purpose: purpose.take(),
            authorizationDetails: details,
            confirmation: confirmation.take(),
            status: status.take()
        )
    }

    // MARK: - Typed values

    /// A string that must not be empty; anything else is read (it must still be strict JSON) and refused.
    private mutating func nonEmptyString(_ name: String, depth: Int) throws -> String {
        if cursor.peek == Byte.quote {
            let text = try cursor.parseString()
            if !text.isEmpty { return text }
        } else {
            _ = try cursor.parseValue(depth: depth)
        }
        throw VerificationError.malformed("\(name) must be a non-empty string")
    }

    /// A NumericDate: a non-negative integer of whole seconds.
    private mutating func date(_ name: String) throws -> Date {
        guard case .integer(let seconds) = try cursor.parseValue(depth: 1), seconds >= 0 else {
            throw VerificationError.malformed("\(name) must be a non-negative integer NumericDate")
        }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// `aud`: one non-empty string, or an array holding exactly one.
    private mutating func readAudience() throws -> String {
        if cursor.peek == Byte.quote { return try nonEmptyString("aud", depth: 1) }
        switch try cursor.parseValue(depth: 1) {
        case .array(let audiences) where audiences.count == 1:
            guard let audience = audiences[0].stringValue, !audience.isEmpty else {
                throw VerificationError.malformed("aud must be a non-empty string")
            }
            return audience
        case .array(let audiences) where audiences.count > 1:
            throw VerificationError.wrongAudience(
                "the token names \(audiences.count) audiences; this profile allows exactly one"
            )
        default:
            throw VerificationError.malformed("aud must be a non-empty string")
        }
    }

    /// `client_id`: a SPIFFE ID, parsed from the bytes in place when it needs no unescaping.
    private mutating func readClientID() throws -> SPIFFEID {
        do {
            if cursor.peek == Byte.quote, let plain = try cursor.parsePlainASCIIString() {
                guard !plain.isEmpty else { throw VerificationError.malformed("client_id must be a non-empty string") }
                return try SPIFFEID(utf8: plain)
            }
            return try SPIFFEID(nonEmptyString("client_id", depth: 1))
        } catch let error as SPIFFEID.ParseError {
            throw VerificationError.malformed("client_id is not a SPIFFE ID: \(error.reason)")
        }
    }

    /// One `act` entry and those nested in it, nearest actor first (RFC 8693 §4.1 nests earlier actors inside).
    private mutating func actors(level: Int, depth: Int) throws -> [SPIFFEID] {
        guard level < AccessTokenClaims.maximumActorDepth else {
            throw VerificationError.malformed("act is nested too deeply")
        }
        guard cursor.peek == Byte.openBrace else {
            _ = try cursor.parseValue(depth: depth - 1)
            throw VerificationError.malformed("every act entry needs a SPIFFE ID sub")
        }
        var actor: SPIFFEID?
        var earlier: [SPIFFEID] = []
        var seenMembers: UInt8 = 0
        var others: Set<String> = []
        if try enter(depth: depth, closing: Byte.closeBrace) {
            repeat {
                let name = try memberName()
                switch name.match(ActorMember.init) {
                case .sub?:
                    guard seenMembers & 1 == 0 else { throw VerificationError.malformed("duplicate member \"sub\"") }
                    seenMembers |= 1
                    actor = try actorSubject(depth: depth)
                case .act?:
                    guard seenMembers & 2 == 0 else { throw VerificationError.malformed("duplicate member \"act\"") }
                    seenMembers |= 2
                    earlier = try actors(level: level + 1, depth: depth + 1)
                default:
                    let text = name.text
                    guard others.insert(text).inserted else {
                        throw VerificationError.malformed("duplicate member \"\(text.prefix(32))\"")
                    }
                    _ = try cursor.parseValue(depth: depth)
                }
            } while try nextMember(closing: Byte.closeBrace)
        }
        guard let actor else { throw VerificationError.malformed("every act entry needs a SPIFFE ID sub") }
        return earlier.isEmpty ? [actor] : [actor] + earlier
    }

    private mutating func actorSubject(depth: Int) throws -> SPIFFEID {
        let refusal = VerificationError.malformed("every act entry needs a SPIFFE ID sub")
        guard cursor.peek == Byte.quote else {
            _ = try cursor.parseValue(depth: depth)
            throw refusal
        }
        if let plain = try cursor.parsePlainASCIIString() {
            guard let actor = try? SPIFFEID(utf8: plain) else { throw refusal }
            return actor
        }
        guard let actor = try? SPIFFEID(cursor.parseString()) else { throw refusal }
        return actor
    }

    /// `status`: an object whose `status_list` member, when present, holds a non-negative integer `idx` and a
    /// non-empty string `uri` (draft-ietf-oauth-status-list §6.1); other status mechanisms are parsed and
    /// ignored.
    private mutating func readStatus() throws -> StatusListReference? {
        guard cursor.peek == Byte.openBrace else {
            _ = try cursor.parseValue(depth: 1)
            throw VerificationError.malformed("status must be an object")
        }
        var reference: StatusListReference?
        var sawList = false
        var others: Set<String> = []
        if try enter(depth: 2, closing: Byte.closeBrace) {
            repeat {
                let text = try memberName().text
                if text == "status_list" {
                    guard !sawList else { throw VerificationError.malformed("duplicate member \"status_list\"") }
                    sawList = true
                    reference = try readStatusList(depth: 3)
                } else {
                    guard others.insert(text).inserted else {
                        throw VerificationError.malformed("duplicate member \"\(text.prefix(32))\"")
                    }
                    _ = try cursor.parseValue(depth: 2)
                }
            } while try nextMember(closing: Byte.closeBrace)
        }
        return reference
    }

    /// `status.status_list`, read in place: a non-negative integer `idx` and a non-empty string `uri`; other
    /// members are parsed and ignored.
    private mutating func readStatusList(depth: Int) throws -> StatusListReference {
        let refusal = VerificationError.malformed(
            "status.status_list needs a non-negative integer idx and a string uri"
        )
        guard cursor.peek == Byte.openBrace else {
            _ = try cursor.parseValue(depth: depth - 1)
            throw refusal
        }
        var index: Int64?
        var uri: String?
        var others: Set<String> = []
        if try enter(depth: depth, closing: Byte.closeBrace) {
            repeat {
                let text = try memberName().text
                switch text {
                case "idx":
                    guard index == nil else { throw VerificationError.malformed("duplicate member \"idx\"") }
                    guard case .integer(let value) = try cursor.parseValue(depth: depth) else { throw refusal }
                    index = value
                case "uri":
                    guard uri == nil else { throw VerificationError.malformed("duplicate member \"uri\"") }
                    guard cursor.peek == Byte.quote else {
                        _ = try cursor.parseValue(depth: depth)
                        throw refusal
                    }
                    uri = try cursor.parseString()
                default:
                    guard others.insert(text).inserted else {
                        throw VerificationError.malformed("duplicate member \"\(text.prefix(32))\"")
                    }
                    _ = try cursor.parseValue(depth: depth)
                }
            } while try nextMember(closing: Byte.closeBrace)
        }
        guard let index, index >= 0, let uri, !uri.isEmpty else { throw refusal }
        return StatusListReference(index: Int(index), uri: uri)
    }

    /// `authorization_details`: an array of RFC 9396 entries.
    private mutating func readDetails() throws -> [AuthorizationDetail] {
        guard cursor.peek == Byte.openBracket else {
            _ = try cursor.parseValue(depth: 1)
            throw VerificationError.malformed("authorization_details must be an array")
        }
        var details: [AuthorizationDetail] = []
        details.reserveCapacity(4)
        if try enter(depth: 2, closing: Byte.closeBracket) {
            repeat {
                cursor.skipWhitespace()
                details.append(try detail(depth: 3))
            } while try nextMember(closing: Byte.closeBracket)
        }
        return details
    }

    /// One entry: the common members typed as ``AuthorizationDetail/init(json:)`` types them, every other
    /// member kept as received.
    private mutating func detail(depth: Int) throws -> AuthorizationDetail {
        guard cursor.peek == Byte.openBrace else {
            _ = try cursor.parseValue(depth: depth - 1)
            throw VerificationError.malformed("an authorization detail must be an object")
        }
        var type: String?
        var actions: [String] = []
        var locations: [String] = []
        var datatypes: [String] = []
        var identifier: String?
        var extensions: [String: JSONValue] = [:]
        var seenMembers: UInt8 = 0
        if try enter(depth: depth, closing: Byte.closeBrace) {
            repeat {
                let name = try memberName()
                guard let member = name.match(DetailMember.init) else {
                    let value = try cursor.parseValue(depth: depth)
                    let text = name.text
                    guard extensions.updateValue(value, forKey: text) == nil else {
                        throw VerificationError.malformed("duplicate member \"\(text.prefix(32))\"")
                    }
                    continue
                }
                guard seenMembers & member.bit == 0 else {
                    throw VerificationError.malformed("duplicate member \"\(name.text)\"")
                }
                seenMembers |= member.bit
                switch member {
                case .type:
                    type = try nonEmptyString("an authorization detail's type", depth: depth)
                case .actions: actions = try strings("actions", depth: depth)
                case .locations: locations = try strings("locations", depth: depth)
                case .identifier:
                    guard cursor.peek == Byte.quote else {
                        _ = try cursor.parseValue(depth: depth)
                        throw VerificationError.malformed("identifier must be a string")
                    }
                    identifier = try cursor.parseString()
                case .datatypes: datatypes = try strings("datatypes", depth: depth)
                case .privileges:
                    _ = try cursor.parseValue(depth: depth)
                    throw VerificationError.malformed("authorization detail privileges are not part of this profile")
                }
            } while try nextMember(closing: Byte.closeBrace)
        }
        guard let type else {
            throw VerificationError.malformed("an authorization detail needs a non-empty string type")
        }
        return AuthorizationDetail(
            type: type,
            actions: actions,
            locations: locations,
            identifier: identifier,
            datatypes: datatypes,
            extensions: extensions
        )
    }

    /// An array of strings, as a member value at `depth`.
    private mutating func strings(_ name: String, depth: Int) throws -> [String] {
        guard cursor.peek == Byte.openBracket else {
            _ = try cursor.parseValue(depth: depth)
            throw VerificationError.malformed("\(name) must be an array of strings")
        }
        var result: [String] = []
        if try enter(depth: depth + 1, closing: Byte.closeBracket) {
            repeat {
                cursor.skipWhitespace()
                guard cursor.peek == Byte.quote else {
                    _ = try cursor.parseValue(depth: depth + 1)
                    throw VerificationError.malformed("\(name) must be an array of strings")
                }
                result.append(try cursor.parseString())
            } while try nextMember(closing: Byte.closeBracket)
        }
        return result
    }

    // MARK: - Grammar

    /// Enters the object or array opening at the cursor, `depth` deep; false when it closes at once.
    private mutating func enter(depth: Int, closing: UInt8) throws -> Bool {
        guard depth <= Self.maximumDepth else { throw cursor.fail("nesting too deep") }
        cursor.index += 1
        cursor.skipWhitespace()
        guard cursor.peek == closing else { return true }
        cursor.index += 1
        return false
    }

    /// A member name and its colon, leaving the cursor on the value.
    private mutating func memberName() throws -> MemberName {
        cursor.skipWhitespace()
        guard cursor.peek == Byte.quote else { throw cursor.fail("expected a member name") }
        let name: MemberName
        if let plain = try cursor.parsePlainASCIIString() {
            name = .plain(plain)
        } else {
            name = .decoded(try cursor.parseString())
        }
        try cursor.consume(Byte.colon, orFail: "expected ':'")
        cursor.skipWhitespace()
        return name
    }

    /// After a member or an element: true after a comma, false after the closing bracket.
    private mutating func nextMember(closing: UInt8) throws -> Bool {
        cursor.skipWhitespace()
        guard let byte = cursor.next else { throw cursor.fail("unexpected end of input") }
        cursor.index += 1
        if byte == Byte.comma { return true }
        if byte == closing { return false }
        cursor.index -= 1
        throw cursor.fail(closing == Byte.closeBrace ? "expected ',' or '}'" : "expected ',' or ']'")
    }
}

/// A member name's bytes, packed for matching: its length and its first eight bytes (little-endian) rule out
/// every other name with two integer comparisons; only a name longer than eight bytes has its tail compared.
private struct PackedName {
    let bytes: UnsafeBufferPointer<UInt8>
    let head: UInt64

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        var head: UInt64 = 0
        for index in 0..<min(bytes.count, 8) { head |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        self.head = head
    }

    var count: Int { bytes.count }

    /// Whether the bytes after the eighth are `tail`.
    func tail(is tail: StaticString) -> Bool {
        UnsafeBufferPointer(start: tail.utf8Start, count: tail.utf8CodeUnitCount).elementsEqual(bytes[8...])
    }
}

/// The claims this profile reads.
private enum Claim: UInt32 {
    case issuer, subject, audience, expiresAt, issuedAt, notBefore, tokenID, clientID, taskID, purpose, scope
    case confirmation, actor, authorizationDetails, status

    init?(_ name: PackedName) {
        switch (name.count, name.head) {
        case (3, 0x73_7369): self = .issuer  // iss
        case (3, 0x62_7573): self = .subject  // sub
        case (3, 0x64_7561): self = .audience  // aud
        case (3, 0x70_7865): self = .expiresAt  // exp
        case (3, 0x74_6169): self = .issuedAt  // iat
        case (3, 0x66_626E): self = .notBefore  // nbf
        case (3, 0x69_746A): self = .tokenID  // jti
        case (9, 0x695F_746E_6569_6C63) where name.tail(is: "d"): self = .clientID  // client_id
        case (3, 0x6E_7874): self = .taskID  // txn
        case (4, 0x7072_7570): self = .purpose  // purp
        case (5, 0x65_706F_6373): self = .scope  // scope
        case (3, 0x66_6E63): self = .confirmation  // cnf
        case (3, 0x74_6361): self = .actor  // act
        case (6, 0x7375_7461_7473): self = .status  // status
        case (21, 0x7A69_726F_6874_7561) where name.tail(is: "ation_details"): self = .authorizationDetails
        default: return nil
        }
    }

    var bit: UInt32 { 1 << rawValue }
}

/// The RFC 9396 common members of an authorization detail.
private enum DetailMember: UInt8 {
    case type, actions, locations, identifier, datatypes, privileges

    init?(_ name: PackedName) {
        switch (name.count, name.head) {
        case (4, 0x6570_7974): self = .type  // type
        case (7, 0x73_6E6F_6974_6361): self = .actions  // actions
        case (9, 0x6E6F_6974_6163_6F6C) where name.tail(is: "s"): self = .locations  // locations
        case (10, 0x6966_6974_6E65_6469) where name.tail(is: "er"): self = .identifier  // identifier
        case (9, 0x6570_7974_6174_6164) where name.tail(is: "s"): self = .datatypes  // datatypes
        case (10, 0x6765_6C69_7669_7270) where name.tail(is: "es"): self = .privileges  // privileges
        default: return nil
        }
    }

    var bit: UInt8 { 1 << rawValue }
}

/// The members of an RFC 8693 `act` entry the profile reads.
private enum ActorMember {
    case sub, act

    init?(_ name: PackedName) {
        switch (name.count, name.head) {
        case (3, 0x62_7573): self = .sub
        case (3, 0x74_6361): self = .act
        default: return nil
        }
    }
}

/// A member name as read: its bytes when it is plain ASCII (every name the profile knows), else its text.
private enum MemberName {
    case plain(UnsafeBufferPointer<UInt8>)
    case decoded(String)

    var text: String {
        switch self {
        case .plain(let bytes): String(decoding: bytes, as: UTF8.self)
        case .decoded(let text): text
        }
    }

    /// What the name denotes by `known`, matched on its bytes.
    func match<Known>(_ known: (PackedName) -> Known?) -> Known? {
        switch self {
        case .plain(let bytes): return known(PackedName(bytes))
        case .decoded(var text): return text.withUTF8 { known(PackedName($0)) }
        }
    }
}

/// The bytes of the JSON grammar.
private enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
}
