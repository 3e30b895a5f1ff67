import Foundation

extension BrokerConfiguration {
    /// Settings given on `writ serve`'s command line; they win over the environment and the file.
    public struct Overrides: Sendable, Hashable {
        /// `--listen HOST:PORT`.
        public var listen: String?
        /// `--tls-listen HOST:PORT|off`.
        public var tlsListen: String?
        /// `--state-dir PATH`.
        public var stateDirectory: String?
        /// `--policies PATH`.
        public var policies: String?
        /// `--allow-public-development`.
        public var allowPublicDevelopment = false

        /// No overrides.
        public init() {}
    }

    /// Applies `WRIT_*` environment overrides.
    public mutating func apply(environment: [String: String]) throws(Problem) {
        if let value = environment["WRIT_LISTEN"] { set(\.listen, "listen", value, from: "WRIT_LISTEN") }
        if let value = environment["WRIT_ISSUER"] {
            issuer = value
            origins["issuer"] = "WRIT_ISSUER"
        }
        if let value = environment["WRIT_STATE_DIR"] {
            set(\.stateDirectory, "state_directory", value, from: "WRIT_STATE_DIR")
        }
        if let value = environment["WRIT_POLICIES"] { set(\.policies, "policies", value, from: "WRIT_POLICIES") }
        if let value = environment["WRIT_DATABASE_URL"] {
            store = value
            origins["store"] = "WRIT_DATABASE_URL"
        }
        if let value = environment["WRIT_DATABASE_PASSWORD_FILE"] {
            storePasswordFile = value
            origins["store_password_file"] = "WRIT_DATABASE_PASSWORD_FILE"
        }
        if let value = environment["WRIT_LOG_LEVEL"] { set(\.logLevel, "log_level", value, from: "WRIT_LOG_LEVEL") }
        if let value = environment["WRIT_TLS_LISTEN"] { setTLSListen(value, from: "WRIT_TLS_LISTEN") }
        if let value = environment["WRIT_DEVELOPMENT"] {
            guard let flag = Bool(value) else {
                throw Problem(code: "invalid_value", message: "WRIT_DEVELOPMENT must be true or false")
            }
            development = flag
            origins["development"] = "WRIT_DEVELOPMENT"
        }
        if let value = environment["WRIT_ALLOW_PUBLIC_DEVELOPMENT"] {
            guard let flag = Self.flag(value) else {
                throw Problem(
                    code: "invalid_value",
                    message: "WRIT_ALLOW_PUBLIC_DEVELOPMENT must be true or false (or 1 or 0)"
                )
            }
            allowPublicDevelopment = flag
            origins["allow_public_development"] = "WRIT_ALLOW_PUBLIC_DEVELOPMENT"
        }
        try applyLimits(environment: environment)
    }

    /// Applies the numeric `WRIT_*` overrides: limits, lifetimes and lead times.
    private mutating func applyLimits(environment: [String: String]) throws(Problem) {
        if let value = environment["WRIT_RATE_LIMIT"] {
            guard let rate = Double(value), rate > 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_RATE_LIMIT must be a positive number")
            }
            limits.requestsPerSecond = rate
            limits.burst = max(limits.burst, rate * 2)
        }
        if let value = environment["WRIT_KEY_PUBLISH_LEAD"] {
            guard let seconds = Int(value), seconds >= 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_KEY_PUBLISH_LEAD must be a number of seconds")
            }
            tokens.keyPublishLead = seconds
        }
        if let value = environment["WRIT_STATUS_LIST_TTL"] {
            guard let seconds = Int(value), (1...3600).contains(seconds) else {
                throw Problem(code: "invalid_value", message: "WRIT_STATUS_LIST_TTL must be 1 to 3600 seconds")
            }
            tokens.statusListTTL = seconds
        }
        if let value = environment["WRIT_OPEN_TASKS"] {
            guard let count = Int(value), count > 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_OPEN_TASKS must be a positive integer")
            }
            limits.openTasks = count
        }
        if let value = environment["WRIT_STREAMS_PER_CALLER"] {
            guard let count = Int(value), count > 0 else {
                throw Problem(code: "invalid_value", message: "WRIT_STREAMS_PER_CALLER must be a positive integer")
            }
            limits.streamsPerCaller = count
        }
    }

    /// Applies command-line overrides, which win over everything else.
    public mutating func apply(overrides: Overrides) {
        if let value = overrides.listen { set(\.listen, "listen", value, from: "--listen") }
        if let value = overrides.tlsListen { setTLSListen(value, from: "--tls-listen") }
        if let value = overrides.stateDirectory { set(\.stateDirectory, "state_directory", value, from: "--state-dir") }
        if let value = overrides.policies { set(\.policies, "policies", value, from: "--policies") }
        if overrides.allowPublicDevelopment {
            allowPublicDevelopment = true
            origins["allow_public_development"] = "--allow-public-development"
        }
    }

    /// Loads the defaults, then a file (when given), then the environment, then the command line.
    public static func load(
        file: String?,
        environment: [String: String],
        overrides: Overrides = Overrides()
    ) throws(Problem) -> BrokerConfiguration {
        var configuration = BrokerConfiguration()
        if let file {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: file)
            else {
                throw Problem(
                    code: "unreadable_file",
                    message: "--config \(file) cannot be read (no such file, a directory, or no permission); "
                        + "give the path of the broker's YAML configuration"
                )
            }
            configuration = try parse(yaml: String(decoding: data, as: UTF8.self), file: file)
        }
        try configuration.apply(environment: environment)
        configuration.apply(overrides: overrides)
        try configuration.validate()
        return configuration
    }

    private mutating func set(
        _ field: WritableKeyPath<BrokerConfiguration, String>,
        _ key: String,
        _ value: String,
        from origin: String
    ) {
        self[keyPath: field] = value
        origins[key] = origin
    }

    private mutating func setTLSListen(_ value: String, from origin: String) {
        if value == "off" {
            tls = nil
        } else if tls == nil {
            tls = TLS(listen: value)
        } else {
            tls?.listen = value
        }
        origins["tls.listen"] = origin
    }

    private static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes": true
        case "0", "false", "no": false
        default: nil
        }
    }
}
