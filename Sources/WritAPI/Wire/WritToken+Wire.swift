public import WritToken

// The token profile's own types are wire types as they are: their JSON is defined once, in WritToken, and
// read here through the same decoders the verifier uses.

extension AuthorizationDetail: WireValue {
    /// Reads an RFC 9396 entry; members beyond the common ones are the entry's own (RFC 9396 §2), never unknown.
    public init(json: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        do {
            try self.init(json: json)
        } catch {
            throw .invalidValue(at: path, "is not an authorization detail: \(error.reason)")
        }
    }
}

extension Revocation: WireValue {
    /// Reads a feed entry.
    public init(json: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        guard case .object = json else { throw .wrongType(at: path, expected: "an object") }
        do {
            try self.init(json: json)
        } catch {
            throw .invalidValue(at: path, "is not a revocation: \(error.reason)")
        }
        try WireObject.refuseUnread(json, kept: self.json, at: path, mode: mode)
    }
}

extension AccessTokenClaims: WireValue {
    /// Reads a token's claims as RFC 9068 has them.
    public init(json: JSONValue, at path: String, mode: WireMode) throws(WireError) {
        guard case .object = json else { throw .wrongType(at: path, expected: "an object") }
        do {
            try self.init(json: json)
        } catch {
            throw .invalidValue(at: path, "is not a token's claims: \(error.reason)")
        }
        try WireObject.refuseUnread(json, kept: self.json, at: path, mode: mode)
    }
}

extension WireObject {
    /// For a type decoded elsewhere: in a request, a member of `received` that the decoded value does not
    /// write back (`kept`) was not understood, and is refused by name.
    static func refuseUnread(
        _ received: JSONValue,
        kept: JSONValue,
        at path: String,
        mode: WireMode
    ) throws(WireError) {
        guard mode == .request, let members = received.objectValue, let known = kept.objectValue else { return }
        if let unknown = members.keys.sorted().first(where: { known[$0] == nil }) {
            throw .unknownMember(at: "\(path).\(unknown.prefix(64))")
        }
    }
}
