/// A JWS in compact serialisation, split into its three segments without copying them.
///
/// Building one checks only the outer shape: the size cap, exactly two dots, and three non-empty segments
/// made of base64url characters. Nothing in it is trusted yet.
public struct CompactJWS: Sendable {
    /// The whole input as received.
    public let bytes: [UInt8]
    private let firstDot: Int
    private let secondDot: Int

    /// Splits a compact JWS of at most `maximumLength` bytes.
    public init(_ text: String, maximumLength: Int) throws(VerificationError) {
        try self.init(text[...], maximumLength: maximumLength)
    }

    /// Splits a compact JWS of at most `maximumLength` bytes.
    public init(_ text: Substring, maximumLength: Int) throws(VerificationError) {
        let utf8 = text.utf8
        guard utf8.count <= maximumLength else {
            throw .malformed("longer than \(maximumLength) bytes")
        }
        self.bytes = utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(utf8)
        let dots = bytes.withUnsafeBufferPointer { buffer in
            let first = ByteSearch.firstIndex(of: UInt8(ascii: "."), in: buffer)
            let second = first.flatMap { ByteSearch.firstIndex(of: UInt8(ascii: "."), in: buffer, from: $0 + 1) }
            let third = second.flatMap { ByteSearch.firstIndex(of: UInt8(ascii: "."), in: buffer, from: $0 + 1) }
            return (first, second, third)
        }
        guard dots.2 == nil else { throw .malformed("more than three segments") }
        guard let first = dots.0, let second = dots.1 else {
            throw .malformed("a compact JWS has exactly three segments")
        }
        self.firstDot = first
        self.secondDot = second
        guard firstDot > 0 else { throw .malformed("the header segment is empty") }
        guard secondDot > firstDot + 1 else { throw .malformed("the payload segment is empty") }
    }

    /// The encoded protected header.
    public var headerSegment: ArraySlice<UInt8> { bytes[..<firstDot] }
    /// The encoded payload.
    public var payloadSegment: ArraySlice<UInt8> { bytes[(firstDot + 1)..<secondDot] }
    /// The encoded signature.
    public var signatureSegment: ArraySlice<UInt8> { bytes[(secondDot + 1)...] }
    /// The bytes the signature covers, exactly as received: `header.payload`.
    public var signingInput: ArraySlice<UInt8> { bytes[..<secondDot] }

    /// Decodes and strictly parses the protected header, which must be a JSON object.
    public func header() throws(VerificationError) -> [String: JSONValue] {
        guard let decoded = Base64URL.decode(bytes: headerSegment) else {
            throw .malformed("the header is not canonical base64url")
        }
        let value: JSONValue
        do {
            value = try StrictJSON(maximumDepth: 4).parse(bytes: decoded)
        } catch {
            throw .malformed("the header is not strict JSON: \(error.message)")
        }
        guard let members = value.objectValue else { throw .malformed("the header must be a JSON object") }
        return members
    }

    /// Decodes the raw signature; it must be canonical base64url of exactly `length` bytes.
    public func signature(length: Int) throws(VerificationError) -> [UInt8] {
        guard !signatureSegment.isEmpty else { throw .badSignature("the signature is missing") }
        guard let decoded = Base64URL.decode(bytes: signatureSegment) else {
            throw .badSignature("the signature is not canonical base64url")
        }
        guard decoded.count == length else {
            throw .badSignature("the signature is \(decoded.count) bytes; this algorithm's are exactly \(length)")
        }
        return decoded
    }

    /// Decodes and strictly parses the payload.
    public func payload() throws(VerificationError) -> JSONValue {
        guard let decoded = Base64URL.decode(bytes: payloadSegment) else {
            throw .malformed("the payload is not canonical base64url")
        }
        do {
            return try StrictJSON(maximumDepth: 16).parse(bytes: decoded)
        } catch {
            throw .malformed("the payload is not strict JSON: \(error.message)")
        }
    }
}

/// Produces compact JWS values.
public enum JWSSigner {
    /// Signs a header and a payload with a private key; the header's `alg` must match the key.
    public static func sign(
        header: [String: JSONValue],
        payload: JSONValue,
        with key: PrivateKey
    ) throws(KeyError)
        -> String
    {
        var output: [UInt8] = Array(Base64URL.encode(JSONWriter.bytes(.object(header))).utf8)
        output.append(UInt8(ascii: "."))
        output.append(contentsOf: Base64URL.encode(JSONWriter.bytes(payload)).utf8)
        let signature = try key.signature(for: output)
        output.append(UInt8(ascii: "."))
        output.append(contentsOf: Base64URL.encode(signature).utf8)
        return String(decoding: output, as: UTF8.self)
    }
}
