import Foundation
import Testing
import WritBroker
import WritToken

/// DPoP nonces that several brokers sharing a state directory all hand out and accept.
@Suite("DPoP nonces shared by brokers")
struct DPoPNonceSharingTests {
    @Test("brokers with the same secret hand out the same nonce and accept each other's, a step of clock apart")
    func sharedSecret() {
        let secret = SecureRandom.bytes(32)
        let first = DPoPNonces(interval: 60, secret: secret)
        let second = DPoPNonces(interval: 60, secret: secret)
        let now = Date(timeIntervalSince1970: 1_800_000_030)
        #expect(first.current(now: now) == second.current(now: now))
        #expect(second.valid(now: now.addingTimeInterval(45)).contains(first.current(now: now)))
        #expect(second.valid(now: now.addingTimeInterval(-45)).contains(first.current(now: now)))
        #expect(!second.valid(now: now.addingTimeInterval(150)).contains(first.current(now: now)), "nonces expire")
        #expect(first.current(now: now) != first.current(now: now.addingTimeInterval(60)), "and change")
    }

    @Test("another secret, or none, makes nonces no other broker accepts")
    func otherSecrets() {
        let now = Date(timeIntervalSince1970: 1_800_000_030)
        let ours = DPoPNonces(secret: SecureRandom.bytes(32))
        let theirs = DPoPNonces(secret: SecureRandom.bytes(32))
        let random = DPoPNonces()
        #expect(!theirs.valid(now: now).contains(ours.current(now: now)))
        #expect(!ours.valid(now: now).contains(random.current(now: now)))
        #expect(random.valid(now: now).contains(random.current(now: now)))
    }

    @Test("the state directory's nonce secret is made once, owner-only, and read back the same")
    func secretFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-nonce-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = StateDirectory(path: directory.path)
        try state.prepare()
        let made = try state.dpopNonceSecret()
        #expect(made.count == 32)
        #expect(try state.dpopNonceSecret() == made)
        let mode = try FileManager.default.attributesOfItem(atPath: state.dpopNonceSecretFile.path)[.posixPermissions]
        #expect((mode as? Int) == 0o600)
    }
}
