import Foundation

/// ``StatusListStore`` over the SQLite database.
struct SQLiteStatusListStore: StatusListStore {
    let database: BrokerDatabase

    init(_ database: BrokerDatabase) { self.database = database }

    func reserve(keyID: String, count: Int, size: Int, at date: Date) async throws -> StatusBlock {
        try await database.write { db in try StatusRows.reserve(db, keyID: keyID, count: count, size: size, at: date) }
    }

    func fetch(list id: String) async throws -> StatusListRecord? {
        try await database.read { db in try StatusRows.fetch(db, id: id) }
    }

    func revokedIndices(list id: String) async throws -> [Int] {
        try await database.read { db in try StatusRows.revokedIndices(db, list: id) }
    }
}
