internal import CZlib

/// A Token Status List (draft-ietf-oauth-status-list §4): the status of many tokens packed into one byte array,
/// `bits` bits per token, index 0 in the least significant bits of the first byte; carried ZLIB-compressed
/// (RFC 1950 around RFC 1951 DEFLATE) and base64url-encoded as `lst`.
///
/// Writ issues lists of one bit per token: 0 valid, 1 invalid (revoked). Lists read from elsewhere may use
/// 1, 2, 4 or 8 bits, as the draft allows.
public struct StatusList: Sendable, Hashable {
    /// The draft's status values this profile names.
    public enum Status: UInt8, Sendable {
        /// `VALID` (0x00).
        case valid = 0
        /// `INVALID` (0x01): revoked, for good.
        case invalid = 1
    }

    /// Bits per status: 1, 2, 4 or 8.
    public let bits: Int
    /// The packed statuses.
    public private(set) var bytes: [UInt8]

    /// The largest list read, in bytes once decompressed (64 Mi statuses of one bit); a larger one is refused
    /// rather than inflated without bound.
    public static let maximumSize = 8 << 20

    /// A list of `count` statuses, all valid; `count` is rounded up to whole bytes.
    public init(count: Int, bits: Int = 1) {
        precondition([1, 2, 4, 8].contains(bits) && count >= 0)
        self.bits = bits
        self.bytes = [UInt8](repeating: 0, count: (count * bits + 7) / 8)
    }

    /// A list from its packed bytes.
    public init(bytes: [UInt8], bits: Int) throws(VerificationError) {
        guard [1, 2, 4, 8].contains(bits) else { throw .malformed("status_list.bits must be 1, 2, 4 or 8") }
        self.bits = bits
        self.bytes = bytes
    }

    /// How many statuses the list holds.
    public var count: Int { bytes.count * 8 / bits }

    /// The status at `index`, or nil when the list is shorter (the draft makes that an error for the
    /// relying party).
    public func status(at index: Int) -> UInt8? {
        guard index >= 0, index < count else { return nil }
        let bit = index * bits
        let mask = UInt8(truncatingIfNeeded: (1 << bits) - 1)
        return (bytes[bit / 8] >> UInt8(bit % 8)) & mask
    }

    /// Sets the status at `index` (which must be inside the list).
    public mutating func set(_ status: UInt8, at index: Int) {
        precondition(index >= 0 && index < count)
        let bit = index * bits
        let mask = UInt8(truncatingIfNeeded: (1 << bits) - 1)
        let shift = UInt8(bit % 8)
        bytes[bit / 8] = (bytes[bit / 8] & ~(mask << shift)) | ((status & mask) << shift)
    }

    /// Sets every status in the list.
    public mutating func setAll(_ status: UInt8) {
        let mask = UInt8(truncatingIfNeeded: (1 << bits) - 1)
        var byte: UInt8 = 0
        for shift in stride(from: 0, to: 8, by: bits) { byte |= (status & mask) << UInt8(shift) }
        bytes = [UInt8](repeating: byte, count: bytes.count)
    }

    /// The packed bytes ZLIB-compressed at the highest level, as the draft recommends.
    public func compressed() -> [UInt8] {
        var destinationLength = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(destinationLength))
        let result = output.withUnsafeMutableBufferPointer { destination in
            bytes.withUnsafeBufferPointer { source in
                compress2(
                    destination.baseAddress,
                    &destinationLength,
                    source.baseAddress,
                    uLong(source.count),
                    Z_BEST_COMPRESSION
                )
            }
        }
        // compress2 fails only on a destination smaller than compressBound or on memory exhaustion.
        precondition(result == Z_OK, "zlib compress2 failed (\(result))")
        output.removeLast(output.count - Int(destinationLength))
        return output
    }

    /// A list from its ZLIB-compressed bytes; refused when they are not one complete ZLIB stream or inflate
    /// beyond ``maximumSize``.
    public init(compressed: [UInt8], bits: Int) throws(VerificationError) {
        guard let inflated = Self.inflate(compressed, limit: Self.maximumSize) else {
            throw .malformed("status_list.lst is not a ZLIB stream of at most \(Self.maximumSize) bytes")
        }
        try self.init(bytes: inflated, bits: bits)
    }

    private static func inflate(_ input: [UInt8], limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { source -> [UInt8]? in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                guard status == Z_OK || status == Z_STREAM_END, output.count + produced <= limit else { return nil }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END { return stream.avail_in == 0 ? output : nil }
                // Input exhausted before the stream ended: truncated.
                if stream.avail_in == 0 && produced == 0 { return nil }
            }
        }
    }
}

/// Where a token's status is kept (draft-ietf-oauth-status-list §6.1): the `status` claim's `status_list`
/// member, an index into the list the URI serves.
public struct StatusListReference: Sendable, Hashable {
    /// `idx`: the token's index in the list.
    public var index: Int
    /// `uri`: where the list's Status List Token is served; equal to that token's `sub`.
    public var uri: String

    /// A reference.
    public init(index: Int, uri: String) {
        self.index = index
        self.uri = uri
    }

    /// The `status` claim holding it.
    public var json: JSONValue {
        .object(["status_list": .object(["idx": .integer(Int64(index)), "uri": .string(uri)])])
    }
}
