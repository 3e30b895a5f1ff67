import Foundation
import GRDB
import Testing
import WritTestSupport
import WritToken

@testable import WritBroker

@Suite("The store")
struct StoreTests {
    static func database() throws -> (BrokerDatabase, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writ-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try BrokerDatabase(path: directory.appendingPathComponent("writ.sqlite").path), directory)
    }

    struct Refused: Error {}

    @Test("concurrent writes share commits; a failing write rolls back only itself")
    func groupedCommits() async throws {
        let (database, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<300 {
                group.addTask {
                    do {
                        try await database.write { db in
                            _ = try RevocationRows.insert(
                                db,
                                .user("user-\(index)"),
                                revokedAt: Date(),
                                retainUntil: Date(),
                                actor: "test"
                            )
                            if index % 7 == 0 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var outcomes: [Bool] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let succeeded = outcomes.filter { $0 }.count
        #expect(succeeded == 300 - 43)
        let stored = try await database.read { db in try RevocationRows.list(db, after: 0, limit: 1000) }
        #expect(stored.count == succeeded)
        // Rolled-back writes leave no gap in the sequence.
        #expect(stored.map(\.sequence) == Array(1...UInt64(succeeded)))
        #expect(try database.integrityCheck() == ["ok"])
    }

    @Test("the audit chain verifies, and an altered, deleted or reordered entry is located")
    func auditChain() async throws {
        let (database, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(at: directory) }
        for index in 1...6 {
            _ = try await database.write { db in
                try AuditRows.append(db, event: "test.event", actor: "tester", subject: "s\(index)", at: Date())
            }
        }
        #expect(try await database.read { db in try AuditRows.verify(db) } == nil)
        let tampered: [(String, Int64)] = [
            ("UPDATE audit SET subject = 'forged' WHERE seq = 3", 3),
            ("DELETE FROM audit WHERE seq = 4", 4),
            ("DELETE FROM audit WHERE seq >= 5", 5),
            (
                "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 100",
                2
            ),
        ]
        for (statement, location) in tampered {
            let copy = directory.appendingPathComponent("copy-\(location).sqlite")
            try await database.pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [copy.path])
            }
            let queue = try DatabaseQueue(path: copy.path)
            try await queue.write { db in try db.execute(sql: statement) }
            let found = try await queue.read { db in try AuditRows.verify(db) }
            #expect(found?.sequence == location, "\(statement)")
        }
    }

    @Test("pruning the audit log keeps the rest of the chain verifiable from its anchor")
    func auditPrune() async throws {
        let (database, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = Date(timeIntervalSinceNow: -86_400 * 40)
        var written: [AuditEntry] = []
        for index in 1...10 {
            written.append(
                try await database.write { db in
                    try AuditRows.append(db, event: "e", actor: "a", subject: "\(index)", at: index <= 4 ? old : Date())
                }
            )
        }
        // Anchored to entries kept outside: the one held, one held with another hash.
        let seventh = AuditLog.Anchor(sequence: 7, hash: written[6].hash)
        #expect(try await database.read { db in try AuditRows.verify(db, against: seventh) } == nil)
        let forged = AuditLog.Anchor(sequence: 7, hash: written[5].hash)
        #expect(try await database.read { db in try AuditRows.verify(db, against: forged) }?.sequence == 7)
        #expect(AuditLog.verify(exported: written) == nil)
        #expect(AuditLog.verify(exported: [written[0], written[2]])?.reason == "entries 2 to 2 are missing")
        let removed = try await database.write { db in
            try AuditRows.prune(db, before: Date(timeIntervalSinceNow: -86_400), limit: 100)
        }
        #expect(removed == 4)
        #expect(try await database.read { db in try AuditRows.verify(db) } == nil)
        // The pruned anchor itself still checks; an anchor older than it cannot.
        let fourth = AuditLog.Anchor(sequence: 4, hash: written[3].hash)
        #expect(try await database.read { db in try AuditRows.verify(db, against: fourth) } == nil)
        let second = AuditLog.Anchor(sequence: 2, hash: written[1].hash)
        await #expect(throws: AuditLog.AnchorPruned(sequence: 2, prunedThrough: 4)) {
            try await database.read { db in try AuditRows.verify(db, against: second) }
        }
        try await database.write { db in try AuditRows.append(db, event: "e", actor: "a", subject: "11", at: Date()) }
        let entries = try await database.read { db in try AuditRows.list(db, after: 0, limit: 100) }
        #expect(entries.map(\.sequence) == Array(5...11))
    }

    @Test("feed pruning removes only a prefix whose tokens have all expired")
    func feedPrune() async throws {
        let (database, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Date()
        let retain: [TimeInterval] = [-100, -50, 500, -10, 900]
        for (index, offset) in retain.enumerated() {
            _ = try await database.write { db in
                try RevocationRows.insert(
                    db,
                    .token("t\(index)"),
                    revokedAt: now,
                    retainUntil: now + offset,
                    actor: "a"
                )
            }
        }
        let removed = try await database.write { db in try RevocationRows.prune(db, before: now, limit: 100) }
        #expect(removed == 2)
        let left = try await database.read { db in try RevocationRows.list(db, after: 0, limit: 100) }
        #expect(left.map(\.sequence) == [3, 4, 5])
        #expect(try await database.read { db in try RevocationRows.lastSequence(db) } == 5)
    }

    @Test("a reopened database keeps its data and its sequence numbers")
    func reopen() async throws {
        let (database, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await database.write { db in
            try RevocationRows.insert(db, .user("u"), revokedAt: Date(), retainUntil: Date(), actor: "a")
        }
        _ = try await database.write { db in try RevocationRows.prune(db, before: Date() + 10, limit: 10) }
        let reopened = try BrokerDatabase(path: directory.appendingPathComponent("writ.sqlite").path)
        let next = try await reopened.write { db in
            try RevocationRows.insert(db, .user("v"), revokedAt: Date(), retainUntil: Date(), actor: "a")
        }
        #expect(next.sequence == 2)
        let attributes = try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("writ.sqlite").path
        )
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
