import Foundation
import Testing
import WritBroker
import WritTestSupport
import WritToken

@Suite("Operators and configuration")
struct OperatorAndConfigurationTests {
    @Test("Argon2id hashes verify the right secret only, with the OWASP parameters in the hash")
    func argon2() throws {
        let hash = try Argon2id.hash("correct horse")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(Argon2id.verify("correct horse", against: hash))
        #expect(!Argon2id.verify("correct horsf", against: hash))
        #expect(!Argon2id.verify("correct horse", against: "$argon2id$garbage"))
        #expect(try Argon2id.hash("correct horse") != hash)
    }

    @Test("the admission gate turns callers away once its slots and queue are full")
    func gate() async throws {
        let gate = AdmissionGate(width: 1, queue: 1)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    await gate.run {
                        for await _ in release { break }
                        return true
                    } ?? false
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
            releaser.yield()
            releaser.yield()
            releaser.finish()
            var outcomes: [Bool] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.filter { $0 }.count == 2)
    }

    @Test("development identities are on with no file, and off unless a file turns them on")
    func developmentDefault() throws {
        #expect(BrokerConfiguration().development)
        #expect(try !BrokerConfiguration.parse(yaml: "listen: 127.0.0.1:9000").development)
        #expect(try !BrokerConfiguration.parse(yaml: "").development)
        #expect(try BrokerConfiguration.parse(yaml: "development: true").development)
    }

    @Test("an issuer's key set skips keys it cannot use instead of refusing them all")
    func keySetSkipsOddKeys() throws {
        let good = SigningKey.generate()
        var members = good.verificationKey.jwk.objectValue ?? [:]
        members["kid"] = .string("good")
        let document: JSONValue = .object([
            "keys": .array([
                .object([
                    "kty": .string("EC"), "crv": .string("P-384"), "kid": .string("odd"), "x": .string("AA"),
                    "y": .string("AA"),
                ]),
                .object(["kty": .string("RSA"), "kid": .string("short"), "n": .string("AQAB"), "e": .string("AQAB")]),
                .object(members),
            ])
        ])
        let set = try IdentityKeySet(jsonBytes: JSONWriter.bytes(document))
        #expect(Array(set.keys.keys) == ["good"])
        #expect(throws: KeyError.self) { try IdentityKeySet(jsonBytes: Array("{\"keys\":[]}".utf8)) }
    }

    @Test("a configuration file is read, environment variables override it")
    func configuration() throws {
        var configuration = try BrokerConfiguration.parse(
            yaml: """
                listen: 0.0.0.0:9000
                issuer: https://writ.example.org/
                tokens: { default_lifetime: 120 }
                limits: { open_tasks: 5 }
                workload_issuers:
                  - { kind: kubernetes, trust_domain: prod.example.org, issuer: https://k8s.example, jwks_file: /etc/jwks.json }
                """
        )
        #expect(configuration.tokens.defaultLifetime == 120)
        #expect(configuration.tokens.maximumLifetime == 3600)
        #expect(configuration.limits.openTasks == 5)
        #expect(configuration.issuerURL == "https://writ.example.org")
        try configuration.apply(environment: ["WRIT_LISTEN": "127.0.0.1:7000", "WRIT_OPEN_TASKS": "9"])
        #expect(configuration.address?.port == 7000)
        #expect(configuration.limits.openTasks == 9)
        try configuration.validate()
    }

    @Test(
        "configuration mistakes are refused with a code that names them",
        arguments: [
            ("listen: 1.2.3.4:80\ntokns: {}", "unknown_key"),
            ("limits: { open_task: 3 }", "unknown_key"),
            ("workload_issuers: [{ kind: jwt-svid, trust_domain: a, jwks: x }]", "unknown_key"),
            ("listen: nowhere", "invalid_value"),
            ("tokens: { default_lifetime: 7200 }", "invalid_value"),
            ("workload_issuers: [{ kind: oidc, trust_domain: a, jwks_file: x }]", "invalid_value"),
            ("user_issuers: [{ jwks_file: x }]", "invalid_value"),
            ("development: false", "invalid_value"),
            ("listen: [", "invalid_yaml"),
            ("log_level: verbose", "invalid_log_level"),
            ("development: true\ntokens: { default_lifetime: soon }", "config_type_mismatch"),
            ("development: yes please", "config_type_mismatch"),
            ("development: true\nissuer: https://user@writ.example.org", "invalid_value"),
            ("listen: 127.0.0.1:80", "invalid_value"),
            (
                "development: true\nuser_issuers: [{ issuer: https://idp, jwks_url: http://idp.example/keys }]",
                "invalid_value"
            ),
        ]
    )
    func configurationMistakes(yaml: String, code: String) {
        #expect(throws: BrokerConfiguration.Problem.self) {
            var configuration = try BrokerConfiguration.parse(yaml: yaml)
            try configuration.apply(environment: [:])
            try configuration.validate()
        }
        do {
            var configuration = try BrokerConfiguration.parse(yaml: yaml)
            try configuration.apply(environment: [:])
            try configuration.validate()
        } catch {
            #expect(error.code == code)
        }
    }
}

@Suite("Configuration sources and the problems they name")
struct ConfigurationSourceTests {
    @Test("a flag beats the environment, which beats the file, which beats the default; problems name the source")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("writ-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
        development: true
        listen: 127.0.0.1:7001
        state_directory: /from/file
        policies: /from/file/policies
        tls: { listen: 127.0.0.1:7401 }
        """.write(to: file, atomically: true, encoding: .utf8)
        let environment = ["WRIT_LISTEN": "127.0.0.1:7002", "WRIT_STATE_DIR": "/from/env"]
        var overrides = BrokerConfiguration.Overrides()
        overrides.listen = "127.0.0.1:7003"
        overrides.tlsListen = "off"
        let configuration = try BrokerConfiguration.load(
            file: file.path,
            environment: environment,
            overrides: overrides
        )
        #expect(configuration.listen == "127.0.0.1:7003")
        #expect(configuration.stateDirectory == "/from/env")
        #expect(configuration.policies == "/from/file/policies")
        #expect(configuration.tls == nil)
        #expect(configuration.audience == "writ")
        #expect(configuration.setting("listen", "x") == "listen x (--listen)")
        #expect(configuration.setting("state_directory", "x") == "state_directory x (WRIT_STATE_DIR)")
        #expect(configuration.setting("policies", "x") == "policies x (the file \(file.path))")
        #expect(configuration.setting("audience", "x") == "audience x (the default)")
        let defaults = try BrokerConfiguration.load(file: nil, environment: [:])
        #expect(defaults.listen == "127.0.0.1:8080" && defaults.stateDirectory == ".writ")
    }

    @Test("a type mismatch names the key path, its line and column, and what was expected")
    func typeMismatch() throws {
        let yaml = "development: true\ntokens:\n  default_lifetime: 300\n  maximum_lifetime: an hour\n"
        let problem = #expect(throws: BrokerConfiguration.Problem.self) {
            try BrokerConfiguration.parse(yaml: yaml, file: "broker.yaml")
        }
        #expect(problem?.code == "config_type_mismatch")
        #expect(
            problem?.message.contains("tokens.maximum_lifetime at line 4, column 21") == true,
            "\(String(describing: problem))"
        )
        #expect(problem?.message.contains("the file broker.yaml") == true)
        #expect(problem?.message.contains("a whole number") == true)
        #expect(problem?.message.contains("Debug") == false)
        let nested = #expect(throws: BrokerConfiguration.Problem.self) {
            try BrokerConfiguration.parse(yaml: "workload_issuers:\n  - kind: [a]\n", file: "b.yaml")
        }
        #expect(nested?.message.contains("workload_issuers[0].kind at line 2") == true, "\(String(describing: nested))")
    }

    @Test("an invalid log level is refused, naming where it was set")
    func logLevel() {
        let problem = #expect(throws: BrokerConfiguration.Problem.self) {
            try BrokerConfiguration.load(file: nil, environment: ["WRIT_LOG_LEVEL": "verbose"])
        }
        #expect(problem?.code == "invalid_log_level")
        #expect(problem?.message.contains("log_level verbose (WRIT_LOG_LEVEL)") == true)
    }

    @Test(
        "identity key URLs are plain http only to this machine, by their parsed host, with no userinfo",
        arguments: [
            ("http://localhost.evil.example/keys", false), ("http://127.0.0.1.evil.example/keys", false),
            ("http://localhost@evilhost.example/keys", false), ("http://127.attacker.example/keys", false),
            ("https://user@idp.example/keys", false), ("http://127.1/keys", false), ("http://0x7f.0.0.1/", false),
            ("http://[::ffff:127.0.0.1]/keys", false), ("http://127.0.0.1:9000/keys", true),
            ("http://[::1]:8080/keys", true), ("http://LOCALHOST/keys", true), ("https://idp.example/keys", true),
        ]
    )
    func keyURLs(url: String, accepted: Bool) {
        let yaml = "development: true\nuser_issuers: [{ issuer: https://idp, jwks_url: \"\(url)\" }]"
        let outcome = Result { () throws(BrokerConfiguration.Problem) in
            var configuration = try BrokerConfiguration.parse(yaml: yaml)
            try configuration.apply(environment: [:])
            try configuration.validate()
        }
        switch outcome {
        case .success: #expect(accepted, "\(url) was accepted")
        case .failure(let problem):
            #expect(!accepted, "\(url) was refused: \(problem)")
            #expect(problem.message.contains("user_issuers[0].jwks_url"))
        }
    }
}

@Suite("Mutual TLS configuration")
struct MutualTLSConfigurationTests {
    @Test("tls, trust bundles and forwarded certificates are read and checked")
    func read() throws {
        var configuration = try BrokerConfiguration.parse(
            yaml: """
                development: true
                tls: { listen: 0.0.0.0:9443, certificate: /etc/writ/tls.pem, key: /etc/writ/tls-key.pem }
                trust_bundles:
                  - { trust_domain: prod.example.org, pem_file: /etc/writ/prod.pem }
                  - { trust_domain: partner.example, spiffe_bundle_file: /etc/writ/partner.json }
                forwarded_certificate: { header: X-SSL-Client-Cert, trusted_proxies: [10.0.0.2] }
                """
        )
        try configuration.validate()
        #expect(configuration.tls?.listen == "0.0.0.0:9443")
        #expect(configuration.trustBundles.count == 2)
        #expect(configuration.forwardedCertificate?.trustedProxies == ["10.0.0.2"])
        try configuration.apply(environment: ["WRIT_TLS_LISTEN": "off"])
        #expect(configuration.tls == nil)
        #expect(BrokerConfiguration().tls?.listen == "127.0.0.1:8443")
        #expect(try BrokerConfiguration.parse(yaml: "development: true").tls == nil)
    }

    @Test(
        "mutual TLS configuration mistakes are refused",
        arguments: [
            "development: true\ntls: { listen: nowhere }",
            "development: true\ntls: { listen: 127.0.0.1:1, certificate: /a.pem }",
            "workload_issuers: [{ kind: jwt-svid, trust_domain: a, jwks_file: x }]\ntls: { listen: 127.0.0.1:1 }",
            "development: true\ntrust_bundles: [{ trust_domain: a }]",
            "development: true\ntrust_bundles: [{ trust_domain: a, pem: x }]",
            "development: true\nforwarded_certificate: { header: X, trusted_proxies: [] }",
        ]
    )
    func mistakes(yaml: String) {
        #expect(throws: BrokerConfiguration.Problem.self) {
            var configuration = try BrokerConfiguration.parse(yaml: yaml)
            try configuration.apply(environment: [:])
            try configuration.validate()
        }
    }
}
