import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import WritPolicy
import WritTestSupport
import WritToken

@testable import WritBroker

/// A broker on a temporary database with the example policies, development identities, an adjustable
/// clock and one admin operator; removed at `close()`.
struct BrokerHarness: Sendable {
    static let issuer = "https://broker.test"
    static let audience = "writ"
    static let coder = "spiffe://example.org/agents/coding-agent"
    static let assistant = "spiffe://example.org/agents/retrieval-assistant"
    static let orchestrator = "spiffe://example.org/agents/research-orchestrator"
    static let summarizer = "spiffe://example.org/agents/summarizer"
    /// A registered resource server, and the audience it serves.
    static let documentsService = "spiffe://example.org/services/documents"
    static let documentsAudience = "https://docs.example.org"

    let directory: URL
    let broker: Broker
    /// The broker's SQLite database, for tests that look at its tables.
    let database: BrokerDatabase
    let clock: AdjustableClock
    let workloadKey: SigningKey
    let userKey: SigningKey
    let operatorToken: String
    let dpopKey = PrivateKey.generate(.es256)

    static var policyDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies")
    }

    static func make(
        in existing: URL? = nil,
        clock existingClock: AdjustableClock? = nil,
        signalTransmitters: [(IdentityIssuer, IdentityKeySet)] = [],
        adjust: (inout Broker.Settings) -> Void = { _ in }
    ) async throws -> BrokerHarness {
        let directory =
            existing
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("writ-broker-\(UUID().uuidString)")
        let state = StateDirectory(path: directory.path)
        try state.prepare()
        let clock = existingClock ?? AdjustableClock(Date())
        let database = try BrokerDatabase(path: state.database.path)
        let stores = BrokerStores.sqlite(database)
        let keys = try await SigningKeys.loadOrCreate(store: stores.keys, directory: state.keys, now: clock.now)
        guard case .success(let policies) = PolicyLoader.load(directory: policyDirectory) else {
            throw BrokerError(.internalError, "the example policies do not load")
        }
        let workloadKey = try state.developmentKey(named: DevelopmentIdentity.workloadKeyName)
        let userKey = try state.developmentKey(named: DevelopmentIdentity.userKeyName)
        let identities = IdentityRegistry(
            workloadIssuers: [
                IdentityIssuer(
                    name: "dev",
                    kind: .jwtSVID,
                    trustDomain: "example.org",
                    issuer: nil,
                    audience: audience,
                    keys: .file("/nonexistent")
                )
            ],
            userIssuers: [
                IdentityIssuer(
                    name: "idp",
                    kind: .user,
                    trustDomain: nil,
                    issuer: DevelopmentIdentity.userIssuer,
                    audience: audience,
                    keys: .file("/nonexistent")
                )
            ],
            signalTransmitters: signalTransmitters.map(\.0)
        )
        for (transmitter, keys) in signalTransmitters { identities.install(keys, for: transmitter.name) }
        identities.install(
            IdentityKeySet(keys: [workloadKey.id: .standard(workloadKey.verificationKey.publicKey)]),
            for: "dev"
        )
        identities.install(IdentityKeySet(keys: [userKey.id: .standard(userKey.verificationKey.publicKey)]), for: "idp")
        var settings = Broker.Settings(issuer: issuer)
        settings.keyDirectory = state.keys
        settings.resourceServers = ResourceServerRegistry([
            ResourceServer(audience: documentsAudience, workloads: [try SPIFFEID(documentsService)])
        ])
        adjust(&settings)
        let broker = try await Broker(
            settings: settings,
            stores: stores,
            policies: policies,
            signingKeys: keys,
            identities: identities,
            clock: clock
        )
        let operatorToken = try await broker.operators.create(
            name: existing == nil ? "test-admin" : "test-admin-\(UUID().uuidString.prefix(8))",
            role: .admin,
            now: clock.now
        )
        return BrokerHarness(
            directory: directory,
            broker: broker,
            database: database,
            clock: clock,
            workloadKey: workloadKey,
            userKey: userKey,
            operatorToken: operatorToken
        )
    }

    func close() { try? FileManager.default.removeItem(at: directory) }

    /// A new broker over the same state directory and clock, as after a restart (the old one's database stays
    /// open, as a killed process's file would be left).
    func reopened() async throws -> BrokerHarness {
        try await BrokerHarness.make(in: directory, clock: clock)
    }

    func workload(_ id: String, audience: String = BrokerHarness.audience) throws -> String {
        try DevelopmentIdentity.workloadAssertion(
            for: try SPIFFEID(id),
            audience: audience,
            key: workloadKey,
            now: clock.now
        )
    }

    func user(_ subject: String, department: String) throws -> String {
        try DevelopmentIdentity.userAssertion(
            subject: subject,
            claims: ["email": .string("\(subject)@example.org"), "department": .string(department)],
            audience: BrokerHarness.audience,
            key: userKey,
            now: clock.now
        )
    }

    func proof() throws -> String {
        try DPoPProof.create(method: "POST", url: BrokerHarness.issuer + "/v1/token", key: dpopKey, issuedAt: clock.now)
    }

    var application: some ApplicationProtocol {
        Application(router: BrokerRoutes(broker: broker).router())
    }

    /// Runs `body` with an in-process client.
    /// Waits (30 s at most) until a stream has subscribed to the feed: a stream authenticates its caller
    /// first, so finishing the feed before that would leave it open for ever.
    func untilSubscribed() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while broker.feed.subscriberCount == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func withClient<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await application.test(.router, body)
    }
}

/// Request helpers.
extension TestClientProtocol {
    func json(
        _ method: HTTPRequest.Method,
        _ uri: String,
        bearer: String? = nil,
        body: String? = nil,
        contentType: String = "application/json",
        headers extra: HTTPFields = [:]
    ) async throws -> (status: Int, body: JSONValue, headers: HTTPFields) {
        var headers = extra
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if body != nil { headers[.contentType] = contentType }
        let response = try await execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
        let text = String(buffer: response.body)
        let value = text.isEmpty ? JSONValue.null : ((try? StrictJSON().parse(text)) ?? .string(text))
        return (Int(response.status.code), value, response.headers)
    }

    func form(
        _ uri: String,
        _ fields: [(String, String)],
        bearer: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> (status: Int, body: JSONValue, headers: HTTPFields) {
        let body = fields.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        return try await json(
            .post,
            uri,
            bearer: bearer,
            body: body,
            contentType: "application/x-www-form-urlencoded",
            headers: headers
        )
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension JSONValue {
    subscript(_ name: String) -> JSONValue? { objectValue?[name] }
    var string: String? { stringValue }
}

/// Task bodies used across tests.
enum Bodies {
    static let readRepository = """
        {"type":"implement-change","purpose":"fix a bug","authorization_details":[{"type":"repository",\
        "locations":["https://git.example.org"],"identifier":"example-org/writ-demo","actions":["read"]}]}
        """
    static let pushMain = """
        {"type":"implement-change","authorization_details":[{"type":"branch","locations":["https://git.example.org"],\
        "identifier":"example-org/writ-demo/main","actions":["push"]}]}
        """
    static func research(parent: String? = nil, delegate: String? = nil) -> String {
        var extra = ""
        if let parent { extra += ",\"parent\":\"\(parent)\"" }
        if let delegate { extra += ",\"delegate_to\":\"\(delegate)\"" }
        return """
            {"type":"research-report","authorization_details":[{"type":"document","locations":\
            ["https://docs.example.org"],"identifier":"public/reports/q3","actions":["read"]}]\(extra)}
            """
    }
    static func exchange(task: String, actor: String, audience: String) -> [(String, String)] {
        [
            ("grant_type", TokenRequest.grantType), ("actor_token", actor), ("actor_token_type", TokenRequest.jwtType),
            ("task_id", task), ("audience", audience),
        ]
    }
}
