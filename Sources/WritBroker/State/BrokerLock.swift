public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared advisory lock on the state directory's `broker.lock`, held by every running broker for its life
/// (the kernel drops it when the process ends, however it ends). Tools on the host test it to learn whether a
/// broker holds the directory's database.
public final class BrokerLock: Sendable {
    private let descriptor: Int32

    /// Takes the shared lock; fails when the lock file cannot be opened or locked.
    public init(state: StateDirectory) throws {
        let path = state.lockFile.path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        guard flock(descriptor, LOCK_SH) == 0 else {
            close(descriptor)
            throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: path])
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Whether a running broker holds the state directory (someone holds `broker.lock`).
    public static func isHeld(in state: StateDirectory) -> Bool {
        let descriptor = open(state.lockFile.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        _ = flock(descriptor, LOCK_UN)
        return false
    }
}

extension StateDirectory {
    /// The lock file a running broker holds.
    public var lockFile: URL { url.appendingPathComponent("broker.lock") }
}
