import Foundation
import NIOCore
import WritPolicy
import WritToken

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `writ serve` checks before it writes anything (the state directory, the first operator token): every
/// problem it can find is reported as one sentence naming the setting, instead of a system error after half a
/// start.
public enum StartupCheck {
    /// Runs every check; the first problem found is thrown.
    public static func run(_ configuration: BrokerConfiguration) async throws(BrokerConfiguration.Problem) {
        try checkPublicDevelopment(configuration)
        try checkStateDirectory(configuration)
        try checkTLSFiles(configuration)
        try checkPolicies(configuration)
        try await checkListeners(configuration)
    }

    /// The development identities only on loopback, unless explicitly allowed.
    public static func checkPublicDevelopment(_ configuration: BrokerConfiguration) throws(BrokerConfiguration.Problem)
    {
        guard configuration.development, !configuration.allowPublicDevelopment else { return }
        let listeners =
            [("listen", configuration.listen)] + (configuration.tls.map { [("tls.listen", $0.listen)] } ?? [])
        for (key, value) in listeners {
            guard let host = BrokerConfiguration.hostAndPort(value)?.host, !PlainHTTPPolicy.isLoopback(host: host)
            else { continue }
            throw BrokerConfiguration.Problem(
                code: "public_development",
                message: "\(configuration.setting(key, value)) is not a loopback address while the development "
                    + "trust domain and identity provider are on (no configuration file, or development: true); "
                    + "listen on 127.0.0.1, or configure real workload issuers with development: false, or pass "
                    + "--allow-public-development (WRIT_ALLOW_PUBLIC_DEVELOPMENT=true) to serve them to the network "
                    + "on purpose"
            )
        }
    }

    /// The state directory is a directory this process can write, or can be created; nothing is created here.
    static func checkStateDirectory(_ configuration: BrokerConfiguration) throws(BrokerConfiguration.Problem) {
        let path = configuration.stateDirectory
        let named = configuration.setting("state_directory", path)
        var candidate = URL(fileURLWithPath: path).standardizedFileURL
        var existing = false
        while true {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw BrokerConfiguration.Problem(
                        code: "state_dir_not_a_directory",
                        message: "\(named) cannot be used: \(candidate.path) is a file, not a directory; point "
                            + "the state directory (--state-dir, WRIT_STATE_DIR, state_directory) at a directory"
                    )
                }
                existing = candidate.path == URL(fileURLWithPath: path).standardizedFileURL.path
                break
            }
            let parent = candidate.deletingLastPathComponent()
            guard parent.path != candidate.path else { break }
            candidate = parent
        }
        var unwritable = access(candidate.path, W_OK | X_OK) != 0
        if existing {
            let database = URL(fileURLWithPath: path).appendingPathComponent("writ.sqlite").path
            if FileManager.default.fileExists(atPath: database), access(database, R_OK | W_OK) != 0 {
                unwritable = true
            }
        }
        guard !unwritable else {
            throw BrokerConfiguration.Problem(
                code: "state_dir_unwritable",
                message: "\(named) is not writable by this user (\(candidate.path) refuses writes); give the "
                    + "broker's user a directory it owns (--state-dir, WRIT_STATE_DIR, state_directory), or fix the "
                    + "permissions"
            )
        }
    }

    /// The TLS certificate and key files exist and can be read.
    static func checkTLSFiles(_ configuration: BrokerConfiguration) throws(BrokerConfiguration.Problem) {
        guard let tls = configuration.tls else { return }
        for (key, path) in [("tls.certificate", tls.certificate), ("tls.key", tls.key)] {
            guard let path, !FileManager.default.isReadableFile(atPath: path) else { continue }
            let what = key == "tls.key" ? "the PEM private key" : "the PEM certificate chain"
            throw BrokerConfiguration.Problem(
                code: "unreadable_file",
                message: "\(configuration.setting(key, path)) cannot be read (no such file, or no permission); "
                    + "give the path of \(what) of the mutual-TLS listener"
            )
        }
    }

    /// The policy directory exists, holds policy files, and they load.
    static func checkPolicies(_ configuration: BrokerConfiguration) throws(BrokerConfiguration.Problem) {
        let named = configuration.setting("policies", configuration.policies)
        let directory = URL(fileURLWithPath: configuration.policies, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue, let files = try? PolicyLoader.files(in: directory)
        else {
            throw BrokerConfiguration.Problem(
                code: "policies_missing",
                message: "\(named) is not a readable directory; point --policies (WRIT_POLICIES, policies) at the "
                    + "directory of policy files"
            )
        }
        guard !files.isEmpty else {
            throw BrokerConfiguration.Problem(
                code: "no_policies",
                message: "\(named) holds no policy files (*.yaml), so every request would be denied; point "
                    + "--policies (WRIT_POLICIES, policies) at your policies, or add a file with `rules: []` to start "
                    + "denying everything on purpose"
            )
        }
        if case .failure(let errors) = PolicyLoader.load(directory: directory) {
            throw BrokerConfiguration.Problem(
                code: "invalid_policies",
                message: "the policies in \(named) do not load; fix them (`writ policy check` shows every "
                    + "problem):\n\(errors)"
            )
        }
    }

    /// Each listen address can be bound now: bound, then released at once, without listening (a probe that
    /// listened would answer connections, and look like the broker to whoever waits for the port). Both are held
    /// together, so two listeners on one port are found too.
    static func checkListeners(_ configuration: BrokerConfiguration) async throws(BrokerConfiguration.Problem) {
        var listeners = [("listen", configuration.listen)]
        if let tls = configuration.tls { listeners.append(("tls.listen", tls.listen)) }
        if let tls = configuration.tls, let plain = BrokerConfiguration.hostAndPort(configuration.listen),
            let secure = BrokerConfiguration.hostAndPort(tls.listen), plain.port == secure.port, plain.port != 0,
            plain.host == secure.host
                || [plain.host, secure.host].contains(where: { ["0.0.0.0", "::", "[::]"].contains($0) })
        {
            // Two unlistened sockets may share a port under SO_REUSEADDR, so the probe alone would miss this.
            throw BrokerConfiguration.Problem(
                code: "listen_address_in_use",
                message: "\(configuration.setting("tls.listen", tls.listen)) is the same port as "
                    + "\(configuration.setting("listen", configuration.listen)); give the two listeners different ports"
            )
        }
        var bound: [Int32] = []
        defer { for descriptor in bound { close(descriptor) } }
        for (key, value) in listeners {
            guard let address = BrokerConfiguration.hostAndPort(value) else { continue }
            do {
                bound.append(try bindWithoutListening(host: address.host, port: address.port))
            } catch {
                throw listenProblem(error, key: key, value: value, configuration: configuration)
            }
        }
    }

    /// A host that does not resolve.
    struct UnresolvableHost: Error {}

    /// Binds a socket as the server's listener will (the first address the host resolves to, SO_REUSEADDR),
    /// and returns its descriptor.
    private static func bindWithoutListening(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        // Hosts in brackets are IPv6 literals in a listen address; getaddrinfo wants them bare.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(bare, String(port), &hints, &result) == 0, let first = result else {
            throw UnresolvableHost()
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code, reason: "bind")
        }
        return descriptor
    }

    /// Whether an error is a listener's bind failing (rather than a failure once running).
    public static func isListenFailure(_ error: any Error) -> Bool {
        if let error = error as? IOError { return [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) }
        return error is SocketAddressError || error is SocketAddressError.UnknownHost || error is UnresolvableHost
    }

    /// A listener that could not be bound, as a problem naming the setting; `key` nil when it is not known which
    /// listener failed.
    public static func listenProblem(
        _ error: any Error,
        key: String?,
        value: String,
        configuration: BrokerConfiguration
    ) -> BrokerConfiguration.Problem {
        let named = key.map { configuration.setting($0, value) } ?? "a listen address (\(value))"
        let flags = key == "tls.listen" ? "--tls-listen, WRIT_TLS_LISTEN, tls.listen" : "--listen, WRIT_LISTEN, listen"
        let port = BrokerConfiguration.hostAndPort(value)?.port ?? 0
        switch (error as? IOError)?.errnoCode ?? 0 {
        case EADDRINUSE:
            return BrokerConfiguration.Problem(
                code: "listen_address_in_use",
                message: "\(named) is already in use by another process (another broker?); stop it, or choose "
                    + "another port (\(flags))"
            )
        case EACCES:
            return BrokerConfiguration.Problem(
                code: "listen_permission_denied",
                message: "\(named) may not be bound by this user"
                    + (port < 1024 ? " (ports below 1024 need privileges)" : "")
                    + "; choose a port of 1024 or above (\(flags)), or grant CAP_NET_BIND_SERVICE"
            )
        case EADDRNOTAVAIL:
            return BrokerConfiguration.Problem(
                code: "listen_address_unavailable",
                message: "\(named) names an address this machine does not have; use one of its addresses, "
                    + "127.0.0.1, or 0.0.0.0 (\(flags))"
            )
        default:
            if error is SocketAddressError || error is SocketAddressError.UnknownHost || error is UnresolvableHost {
                return BrokerConfiguration.Problem(
                    code: "listen_address_unavailable",
                    message: "\(named) has a host that does not resolve to an address of this machine; use an IP "
                        + "address (\(flags))"
                )
            }
            return BrokerConfiguration.Problem(
                code: "listen_failed",
                message: "\(named) cannot be bound (\(error)); check the address (\(flags))"
            )
        }
    }
}
