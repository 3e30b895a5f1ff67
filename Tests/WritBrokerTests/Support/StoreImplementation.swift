import Foundation
import Testing
import WritBroker

/// A store implementation that ``StoreConformanceTests`` holds to the store protocols' documented contracts.
/// A new implementation (another database) is added to ``implementations`` and nowhere else: the suite does
/// not change.
struct StoreImplementation: Sendable, CustomTestStringConvertible {
    /// Every implementation the suite runs against.
    static let implementations: [StoreImplementation] = [.sqlite]

    /// The name the test report shows.
    let name: String
    /// Opens fresh, empty stores.
    let open: @Sendable () async throws -> OpenedStores
    /// Where this implementation is known to contradict a protocol's documentation. The suite records such a
    /// failure as a known issue for this implementation only, and fails once it is fixed, so the entry goes.
    var knownDeviations: Set<StoreDeviation> = []

    var testDescription: String { name }

    /// The SQLite stores, on a database file in a temporary directory removed afterwards.
    static let sqlite = StoreImplementation(
        name: "SQLite",
        open: {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "writ-conformance-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stores = try BrokerStores.sqlite(path: directory.appendingPathComponent("writ.sqlite").path)
            return OpenedStores(stores: stores) { try? FileManager.default.removeItem(at: directory) }
        },
        knownDeviations: [.issuedBeforeRetainedFromTimeNotCutoff, .auditReportLastZeroWhenAllPruned]
    )

    /// Runs `body` on fresh stores and disposes of them afterwards, whether `body` throws or not.
    func withStores<Result: Sendable>(_ body: (BrokerStores) async throws -> Result) async throws -> Result {
        let opened = try await open()
        do {
            let result = try await body(opened.stores)
            await opened.discard()
            return result
        } catch {
            await opened.discard()
            throw error
        }
    }

    /// Whether this implementation is known to deviate from the contract here.
    func deviates(_ deviation: StoreDeviation) -> Bool { knownDeviations.contains(deviation) }
}

/// Fresh stores and how to dispose of them (a database file to remove, a schema to drop).
struct OpenedStores: Sendable {
    /// The stores under test.
    let stores: BrokerStores
    /// Removes what opening made.
    let discard: @Sendable () async -> Void
}

/// A known contradiction between an implementation and a store protocol's documentation.
enum StoreDeviation: Hashable, Sendable {
    /// `RevocationStore.revoke(.issuedBefore…)` keeps the entry `retention` past the time as given (or past now,
    /// when that is earlier), instead of past the entry's cutoff, that time rounded up to a whole second: one
    /// second short whenever the time is not a whole second or the cutoff is after now (`writ revoke before now`).
    case issuedBeforeRetainedFromTimeNotCutoff
    /// `AuditStore.report` gives 0 as the last sequence number once pruning has removed every entry, though the
    /// chain continues from the last one removed.
    case auditReportLastZeroWhenAllPruned
}
