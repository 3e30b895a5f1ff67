import CArgon2
import Foundation
import WritToken

/// Argon2id password hashing through libargon2 (RFC 9106), with the OWASP parameters: 19 MiB of memory,
/// two passes, one lane. Each hash holds its own parameters and salt, so they can be raised later.
public enum Argon2id {
    /// Memory in KiB.
    public static let memoryKiB: UInt32 = 19 * 1024
    /// Passes over memory.
    public static let iterations: UInt32 = 2
    /// Lanes.
    public static let parallelism: UInt32 = 1
    /// Salt bytes.
    static let saltLength = 16
    /// Hash bytes.
    static let hashLength = 32

    /// Hashes a secret with a fresh random salt; returns the PHC string (`$argon2id$v=19$m=…`).
    public static func hash(_ secret: String) throws -> String {
        let salt = SecureRandom.bytes(saltLength)
        let encodedLength = argon2_encodedlen(
            iterations,
            memoryKiB,
            parallelism,
            UInt32(saltLength),
            UInt32(hashLength),
            Argon2_id
        )
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let bytes = Array(secret.utf8)
        let status = argon2id_hash_encoded(
            iterations,
            memoryKiB,
            parallelism,
            bytes,
            bytes.count,
            salt,
            salt.count,
            hashLength,
            &encoded,
            encodedLength
        )
        guard status == ARGON2_OK.rawValue else { throw Argon2Error(status: status) }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `secret` matches a PHC string made by ``hash(_:)``. libargon2 compares in constant time.
    public static func verify(_ secret: String, against encoded: String) -> Bool {
        let bytes = Array(secret.utf8)
        return argon2id_verify(encoded, bytes, bytes.count) == ARGON2_OK.rawValue
    }
}

/// A libargon2 failure.
public struct Argon2Error: Error, Sendable, CustomStringConvertible {
    /// libargon2's status code.
    public let status: Int32
    public var description: String { "argon2 failed: " + String(cString: argon2_error_message(status)) }
}
