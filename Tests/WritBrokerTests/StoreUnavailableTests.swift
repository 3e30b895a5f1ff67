import Foundation
import HTTPTypes
import Logging
import Testing
import WritPolicy
import WritTestSupport
import _ConnectionPoolModule

@testable import WritBroker

/// A database that cannot be reached is the caller's to retry: 503 `temporarily_unavailable` with
/// `Retry-After`, never a 500.
@Suite("The store unavailable")
struct StoreUnavailableTests {
    static func context() -> BrokerContext {
        BrokerContext(
            settings: BrokerSettings(issuer: "https://broker.test"),
            policies: .empty,
            clock: AdjustableClock(Date()),
            logger: Logger(label: "test"),
            metrics: BrokerMetrics()
        )
    }

    @Test(
        "connection failures, a server shutting down, no answer in time and a tripped pool mean unavailable",
        arguments: ["08006", "08001", "57P01", "57P03", "53300"]
    )
    func unavailableCodes(code: String) {
        #expect(PostgresStoreError.meansUnavailable(code))
    }

    @Test("other SQLSTATE codes are not unavailability")
    func otherCodes() {
        for code in ["23505", "40001", "22021", "42P01"] { #expect(!PostgresStoreError.meansUnavailable(code)) }
        let tripped = PostgresStoreError(ConnectionPoolError.connectionCreationCircuitBreakerTripped, doing: "read")
        #expect(tripped.unavailable)
    }

    @Test("the broker answers an unavailable store with 503 and Retry-After, anything else with a bare 500")
    func mapped() async {
        let context = Self.context()
        await #expect(throws: BrokerError(.unavailable, "")) {
            try await context.store("read") { () async throws -> Int in
                throw PostgresStoreError(code: "57P01", description: "terminating connection", unavailable: true)
            }
        }
        do {
            _ = try await context.store("read") { () async throws -> Int in
                throw PostgresStoreError(code: nil, description: "no answer", unavailable: true)
            }
        } catch {
            #expect(error.code.status == .serviceUnavailable)
            #expect(error.retryAfter == 1)
        }
        await #expect(throws: BrokerError(.internalError, "")) {
            try await context.store("read") { () async throws -> Int in
                throw PostgresStoreError(code: "42P01", description: "no such table")
            }
        }
    }

    @Test("the start's bounded wait gives up with an unavailable error, and a quick one returns")
    func bounded() async throws {
        await #expect(throws: PostgresStoreError.self) {
            try await PostgresDatabase.within(.milliseconds(100)) { try await Task.sleep(for: .seconds(5)) }
        }
        do {
            try await PostgresDatabase.within(.milliseconds(100)) { try await Task.sleep(for: .seconds(5)) }
        } catch let error as PostgresStoreError {
            #expect(error.unavailable)
        }
        try await PostgresDatabase.within(.seconds(5)) {}
    }
}
