import Foundation
import Testing
import WritBroker
import WritTestSupport

/// Choosing the PostgreSQL store: the URL, its password, and what a broker says when it cannot use it.
@Suite("The PostgreSQL store's location")
struct PostgresLocationTests {
    @Test("a URL gives host, port, user, database, TLS mode and pool size; the password never shows")
    func readsTheURL() throws {
        let location = try PostgresLocation(
            url: "postgres://writ:s3cret@db.internal:6432/brokers?sslmode=require&pool=8"
        )
        #expect(location.host == "db.internal")
        #expect(location.port == 6432)
        #expect(location.user == "writ")
        #expect(location.database == "brokers")
        #expect(location.tls == .require)
        #expect(location.poolSize == 8)
        #expect(!location.description.contains("s3cret"))
        let defaults = try PostgresLocation(url: "postgresql://writ@db/writ")
        #expect(defaults.port == 5432)
        #expect(defaults.tls == .verifyFull, "TLS with a verified server is the default")
    }

    @Test("a password file wins over the URL's password, without its trailing newline")
    func passwordFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("writ-pw-\(UUID().uuidString)")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let server = try await PostgreSQLServer.shared()
        // The tests' server trusts loopback, so the password itself is not checked; reading it is.
        let location = try PostgresLocation(url: server.url(database: "postgres"), passwordFile: file.path)
        #expect(!location.description.contains("from-file"))
        #expect(throws: PostgresLocationError.self) {
            try PostgresLocation(url: server.url(database: "postgres"), passwordFile: file.path + ".missing")
        }
    }

    @Test(
        "a store URL Writ cannot use is refused as invalid_store, naming where it came from and never its password",
        arguments: [
            "mysql://writ:pw@db/writ", "postgres://db/writ", "postgres://writ:pw@/writ", "postgres://writ:pw@db",
            "postgres://writ:pw@db/writ?sslmode=prefer", "postgres://writ:pw@db/writ?pool=2",
            "postgres://writ:pw@db/writ?application_name=x",
            "postgres://writ:pw@db/writ?sslmode=require&sslrootcert=/ca.pem",
        ]
    )
    func refused(url: String) throws {
        var configuration = BrokerConfiguration()
        try configuration.apply(environment: ["WRIT_DATABASE_URL": url])
        do {
            try configuration.validate()
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.code == "invalid_store")
            #expect(error.message.contains("WRIT_DATABASE_URL"))
            #expect(!error.message.contains(":pw@"), "the password stays out of the message")
        }
    }

    @Test("a password file without a store is refused, not ignored")
    func passwordFileAlone() throws {
        var configuration = BrokerConfiguration()
        try configuration.apply(environment: ["WRIT_DATABASE_PASSWORD_FILE": "/run/secrets/writ-db"])
        do {
            try configuration.validate()
            Issue.record("a password file without a store was accepted")
        } catch {
            #expect(error.code == "invalid_store")
            #expect(error.message.contains("WRIT_DATABASE_PASSWORD_FILE"))
        }
    }

    @Test("a database nobody answers for fails the start instead of holding it, saying what could not be done")
    func unreachable() async throws {
        let location = try PostgresLocation(url: "postgres://writ@127.0.0.1:1/writ?sslmode=disable")
        let started = Date()
        do {
            _ = try await PostgresDatabase(location, timeout: .seconds(2))
            Issue.record("a database nobody answers for was opened")
        } catch {
            #expect("\(error)".contains("PostgreSQL"))
        }
        // The pool alone would retry for ever; the bound is loose because the whole suite loads the machine.
        #expect(Date().timeIntervalSince(started) < 60)
    }
}
