import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store is and how to reach it, from a `postgres://` URL.
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?sslmode=MODE&sslrootcert=FILE&pool=N`, as libpq reads it
/// for the parts they share. `sslmode` is `disable`, `require` (encrypted, server not verified) or
/// `verify-full` (the default: encrypted, and the server's certificate must chain to `sslrootcert`, or to the
/// system's roots, and name the host). A password is better kept out of the URL: `passwordFile` (a file
/// holding only the password) wins over one in the URL.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable, Hashable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the certificate authorities that may sign the server's certificate (`verify-full`).
    public var rootCertificates: String?
    /// The most connections this broker opens.
    public var poolSize: Int
    var password: String?

    /// Reads a `postgres://` (or `postgresql://`) URL; `passwordFile` names a file holding the password.
    public init(url text: String, passwordFile: String? = nil) throws(PostgresLocationError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw .init("the store URL must be postgres://USER@HOST:PORT/DATABASE") }
        guard let host = url.host, !host.isEmpty else { throw .init("the store URL names no host") }
        guard let user = url.user, !user.isEmpty else { throw .init("the store URL names no user (USER@HOST)") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw .init("the store URL names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.database = database
        self.password = url.password
        self.tls = .verifyFull
        self.poolSize = 16
        for item in url.queryItems ?? [] {
            try apply(item.name, item.value ?? "")
        }
        // libpq checks the server against sslrootcert even under `require`; Writ would not: refuse rather than
        // silently skip a check the URL asks for.
        if tls == .require, rootCertificates != nil {
            throw .init("sslrootcert is checked only with sslmode=verify-full; use verify-full, or drop sslrootcert")
        }
        if let passwordFile {
            guard let contents = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw .init("the store's password file \(passwordFile) cannot be read")
            }
            self.password = contents.trimmingCharacters(in: .newlines)
        }
    }

    private mutating func apply(_ name: String, _ value: String) throws(PostgresLocationError) {
        switch name {
        case "sslmode":
            guard let mode = TLSMode(rawValue: value) else {
                throw .init("sslmode must be disable, require or verify-full, not \(value)")
            }
            tls = mode
        case "sslrootcert": rootCertificates = value
        case "pool":
            // Two connections stay with the broker: news of other brokers' feed entries, and leadership.
            guard let size = Int(value), (3...256).contains(size) else {
                throw .init("pool must be a number of connections from 3 to 256")
            }
            poolSize = size
        default:
            throw .init("the store URL's parameter \(name) is not one Writ reads (sslmode, sslrootcert, pool)")
        }
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: try tlsConfiguration()
        )
        configuration.options.maximumConnections = poolSize
        configuration.options.additionalStartupParameters = [
            // A durable commit before any acknowledgement, whatever the server's default.
            ("synchronous_commit", "on"),
            // A broker whose host vanishes mid-transaction must not hold the write lock (or leadership) for
            // the two hours of TCP's default keepalive: its session ends within about half a minute.
            ("idle_in_transaction_session_timeout", "15s"),
            ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
            ("client_connection_check_interval", "5s"),
            // A write that cannot get the lock fails (and is not acknowledged) rather than waiting forever.
            ("lock_timeout", "30s"),
        ]
        return configuration
    }

    private func tlsConfiguration() throws -> PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .require:
            var context = TLSConfiguration.makeClientConfiguration()
            context.certificateVerification = .none
            return .require(context)
        case .verifyFull:
            var context = TLSConfiguration.makeClientConfiguration()
            context.certificateVerification = .fullVerification
            if let rootCertificates {
                context.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificates))
            }
            return .require(context)
        }
    }
}

/// A store URL Writ cannot use, with what to change.
public struct PostgresLocationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
