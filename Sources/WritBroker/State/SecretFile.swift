#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files that hold secrets: created with mode 0600 from the start, never world-readable for a moment,
/// and synced before the write returns.
public enum SecretFile {
    /// A file that could not be written.
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        /// What failed, with the path and errno.
        public let description: String
    }

    /// Creates `path` (which must not exist) holding `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WriteError(description: "cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw WriteError(description: "cannot write \(path): errno \(errno)") }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw WriteError(description: "cannot sync \(path): errno \(errno)") }
    }
}
