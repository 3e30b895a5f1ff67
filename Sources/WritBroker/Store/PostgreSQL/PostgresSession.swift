import Foundation
public import Logging
import PostgresNIO
import _ConnectionPoolModule

/// One connection inside a transaction, with the few ways the stores use it.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Rows of a query, each readable by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// The first row of a query, if any.
    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    /// Runs a statement; the number of rows it returned (statements that change rows say `RETURNING 1`).
    @discardableResult
    func execute(_ query: PostgresQuery) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }

    /// Runs statements given as plain text, without parameters (transaction control, schema).
    func run(_ sql: String) async throws {
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
    }
}

/// A failure of the PostgreSQL store, with the server's SQLSTATE code and message when there is one. Bound
/// values are never part of it.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATE code (for example `40001`, `08006`), when the server sent one.
    public let code: String?
    /// What the store was doing and what went wrong.
    public let description: String
    /// Whether the database could not be reached (down, restarting, the connection lost, no answer in time):
    /// the request may be tried again shortly.
    public let unavailable: Bool

    init(code: String?, description: String, unavailable: Bool = false) {
        self.code = code
        self.description = description
        self.unavailable = unavailable
    }

    /// PostgreSQL's SQLSTATE codes for a server that cannot serve now: connection exceptions (class 08), and
    /// a shutdown or start in progress.
    static func meansUnavailable(_ code: String) -> Bool {
        code.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(code)
    }

    init(_ error: any Error, doing what: String) {
        if let error = error as? PostgresStoreError {
            self = error
        } else if let error = error as? PSQLError {
            let code = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            let lost: [PSQLError.Code] = [
                .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            ]
            self.init(
                code: code,
                description: "PostgreSQL could not \(what): \(message)" + (code.map { " (\($0))" } ?? ""),
                unavailable: lost.contains(error.code) || code.map(Self.meansUnavailable) == true
            )
        } else if error is ConnectionPoolError {
            // No connection could be made (the circuit breaker tripped) or the pool is shutting down.
            self.init(code: nil, description: "PostgreSQL could not \(what): \(error)", unavailable: true)
        } else {
            self.init(code: nil, description: "PostgreSQL could not \(what): \(error)")
        }
    }
}
