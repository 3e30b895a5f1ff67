public import Foundation

/// What `writ` does on the broker's own host, straight on the state directory's store: operators (which the
/// admin API cannot bootstrap) and an audit check that needs no running broker. It never creates or migrates
/// the database (a broker may hold it): a missing or older one is refused with what to do.
public struct HostAdministration: Sendable {
    let stores: BrokerStores

    /// Opens the store of a state directory. A database behind this version's schema is refused, saying
    /// whether a running broker holds it.
    public init(state: StateDirectory) throws {
        do {
            self.stores = .sqlite(try BrokerDatabase(path: state.database.path, migrating: false))
        } catch var mismatch as BrokerDatabase.SchemaMismatch {
            mismatch.heldByRunningBroker = !mismatch.missing && BrokerLock.isHeld(in: state)
            throw mismatch
        }
    }

    /// Opens a PostgreSQL store, which must be at this version's schema (a broker of this version migrates
    /// it): the CLI never changes a schema brokers use.
    public init(postgres location: PostgresLocation) async throws {
        self.stores = .postgres(try await PostgresDatabase(location, migrating: false))
    }

    /// Makes an operator and returns its token (shown once; only its hash is kept).
    public func createOperator(name: String, role: OperatorRole, by actor: String, now: Date) async throws -> String {
        let authenticator = OperatorAuthenticator(store: stores.operators, concurrency: 1, queue: 1, cacheLifetime: 0)
        return try await authenticator.create(name: name, role: role, by: actor, now: now)
    }

    /// An operator by name or token id.
    public func fetchOperator(nameOrID name: String) async throws -> OperatorRecord? {
        try await stores.operators.fetch(nameOrID: name)
    }

    /// Every operator, oldest first.
    public func listOperators() async throws -> [OperatorRecord] { try await stores.operators.list() }

    /// Revokes an operator; the record, or nil when there is none.
    public func revokeOperator(nameOrID name: String, by actor: String, now: Date) async throws -> OperatorRecord? {
        try await stores.operators.revoke(nameOrID: name, actor: actor, at: now)
    }

    /// How many admin operators are active.
    public func countActiveAdmins() async throws -> Int { try await stores.operators.countActiveAdmins() }

    /// Walks the audit chain (from an outside anchor when given).
    public func verifyAudit(against anchor: AuditLog.Anchor?) async throws -> AuditLog.Report {
        try await stores.audit.report(against: anchor)
    }

    /// Walks the audit chain of a state directory's database opened read-only: the check writes nothing and
    /// needs only read access to the files. A database behind the schema is refused as by ``init(state:)``.
    public static func verifyAudit(
        in state: StateDirectory,
        against anchor: AuditLog.Anchor?
    ) throws
        -> AuditLog.Report
    {
        do {
            return try BrokerStores.auditReport(readingOnly: state.database.path, against: anchor)
        } catch var mismatch as BrokerDatabase.SchemaMismatch {
            mismatch.heldByRunningBroker = !mismatch.missing && BrokerLock.isHeld(in: state)
            throw mismatch
        }
    }
}
