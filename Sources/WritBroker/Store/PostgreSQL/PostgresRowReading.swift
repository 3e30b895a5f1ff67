import Foundation
import PostgresNIO

/// Reading a row's columns by name into the stores' types. A column whose value does not decode is an error
/// (a damaged or foreign row), never a crash or a silent default.
extension PostgresRandomAccessRow {
    func string(_ column: String) throws -> String { try self[column].decode(String.self) }
    func optionalString(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    func int64(_ column: String) throws -> Int64 { try self[column].decode(Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try self[column].decode(Int64?.self) }
    func int(_ column: String) throws -> Int { Int(try int64(column)) }
    func date(_ column: String) throws -> Date { StoredTime.date(try int64(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt64(column).map(StoredTime.date) }
    func bool(_ column: String) throws -> Bool { try self[column].decode(Bool.self) }
}

extension PostgresSession {
    /// The one BIGINT a query returns (a count, a maximum), or nil for no row or NULL.
    func integer(_ query: PostgresQuery) async throws -> Int64? {
        try await row(query)?[0].decode(Int64?.self)
    }

    /// The first column of every row, as text.
    func strings(_ query: PostgresQuery) async throws -> [String] {
        try await rows(query).map { try $0[0].decode(String.self) }
    }

    /// The last number given in a numbered log (0 before the first).
    func lastNumber(of log: String) async throws -> Int64 {
        try await integer("SELECT last FROM writ_sequences WHERE name = \(log)") ?? 0
    }
}
