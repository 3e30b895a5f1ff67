/// The broker's storage, one store per concept. Services and routes see only these protocols; the SQLite
/// (`Store/SQLite/`) and PostgreSQL (`Store/PostgreSQL/`) implementations are the only code that knows SQL.
public struct BrokerStores: Sendable {
    /// Tasks.
    public let tasks: any TaskStore
    /// Issued tokens and used DPoP proofs.
    public let tokens: any TokenStore
    /// The revocation feed.
    public let revocations: any RevocationStore
    /// Signing-key records.
    public let keys: any KeyStore
    /// The audit log.
    public let audit: any AuditStore
    /// Operators.
    public let operators: any OperatorStore
    /// Token Status Lists.
    public let statusLists: any StatusListStore
    /// Shared Signals streams.
    public let signals: any SignalStreamStore
    /// Monitoring alerts.
    public let monitoring: any MonitoringStore
    /// Wake-ups for entries other brokers commit, where several brokers share the database.
    public var feedNotifier: (any FeedNotifier)?
    /// Who does the cluster's background work, where several brokers share the database; nil: this broker.
    public var leadership: (any ClusterLeadership)?
    /// The brokers sharing the database, among whom rate limits are shared; nil: this broker alone.
    public var membership: (any ClusterMembership)?
    /// One broker at a time through the first start's steps; nil: this broker alone (its state lock suffices).
    public var startup: (any StartupSerialization)?

    /// Runs the first start's steps one broker at a time where several share the database.
    public func serializedStartup<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let startup else { return try await body() }
        return try await startup.serialized(body)
    }

    /// Stores from their implementations.
    public init(
        tasks: any TaskStore,
        tokens: any TokenStore,
        revocations: any RevocationStore,
        keys: any KeyStore,
        audit: any AuditStore,
        operators: any OperatorStore,
        statusLists: any StatusListStore,
        signals: any SignalStreamStore,
        monitoring: any MonitoringStore
    ) {
        self.tasks = tasks
        self.tokens = tokens
        self.revocations = revocations
        self.keys = keys
        self.audit = audit
        self.operators = operators
        self.statusLists = statusLists
        self.signals = signals
        self.monitoring = monitoring
    }

    /// The SQLite stores over one database file.
    public static func sqlite(_ database: BrokerDatabase) -> BrokerStores {
        BrokerStores(
            tasks: SQLiteTaskStore(database),
            tokens: SQLiteTokenStore(database),
            revocations: SQLiteRevocationStore(database),
            keys: SQLiteKeyStore(database),
            audit: SQLiteAuditStore(database),
            operators: SQLiteOperatorStore(database),
            statusLists: SQLiteStatusListStore(database),
            signals: SQLiteSignalStreamStore(database),
            monitoring: SQLiteMonitoringStore(database)
        )
    }

    /// The PostgreSQL stores over one database; brokers sharing it see one feed, one audit chain and one set of
    /// spent proofs (docs/scaling.md says what is not shared yet).
    public static func postgres(_ database: PostgresDatabase) -> BrokerStores {
        var stores = BrokerStores(
            tasks: PostgresTaskStore(database),
            tokens: PostgresTokenStore(database),
            revocations: PostgresRevocationStore(database),
            keys: PostgresKeyStore(database),
            audit: PostgresAuditStore(database),
            operators: PostgresOperatorStore(database),
            statusLists: PostgresStatusListStore(database),
            signals: PostgresSignalStreamStore(database),
            monitoring: PostgresMonitoringStore(database)
        )
        stores.feedNotifier = PostgresFeedNotifier(database)
        stores.leadership = PostgresLeadership(database)
        stores.membership = PostgresMembership(database)
        stores.startup = PostgresStartupSerialization(database)
        return stores
    }

    /// Opens (creating and migrating if needed) the SQLite database at `path`.
    public static func sqlite(path: String) throws -> BrokerStores {
        sqlite(try BrokerDatabase(path: path))
    }

    /// The audit chain's report from the SQLite database at `path`, opened read-only.
    public static func auditReport(readingOnly path: String, against anchor: AuditLog.Anchor?) throws -> AuditLog.Report
    {
        try SQLiteAuditStore.report(readingOnly: path, against: anchor)
    }
}
