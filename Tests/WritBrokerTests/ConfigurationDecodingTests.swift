import Foundation
import Testing
import WritBroker

@Suite("The configuration file is decoded strictly, every mistake reported at once")
struct ConfigurationDecodingTests {
    static func problem(_ text: String, file: String? = "broker.yaml") -> BrokerConfiguration.Problem? {
        do {
            _ = try BrokerConfiguration.parse(yaml: text, file: file)
            return nil
        } catch {
            return error
        }
    }

    @Test("three unknown keys in three sections are all named, each with its line, column and the key meant")
    func threeUnknownKeys() throws {
        let yaml = """
            listen: 127.0.0.1:9000
            tokens:
              max_lifetime: 600
            limits:
              open_task: 3
            workload_issuers:
              - kind: jwt-svid
                trust_domain: prod.example.org
                jwks_fle: /etc/writ/jwks.json
            """
        let problem = try #require(Self.problem(yaml))
        #expect(problem.code == "unknown_key")
        let lines = problem.message.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("the file broker.yaml has 3 mistakes") == true, "\(problem)")
        #expect(
            Array(lines.dropFirst()) == [
                "  unknown_key: unknown key tokens.max_lifetime at line 3, column 3 "
                    + "(did you mean tokens.maximum_lifetime?)",
                "  unknown_key: unknown key limits.open_task at line 5, column 3 (did you mean limits.open_tasks?)",
                "  unknown_key: unknown key workload_issuers[0].jwks_fle at line 9, column 5 "
                    + "(did you mean workload_issuers[0].jwks_file?)",
            ],
            "\(problem)"
        )
    }

    @Test("one unknown key is one sentence naming the file and where to look the keys up")
    func oneUnknownKey() throws {
        let problem = try #require(Self.problem("development: true\ntokns: {}\n"))
        #expect(
            problem.description
                == "unknown_key: unknown key tokns at line 2, column 1 (did you mean tokens?) in the file broker.yaml; "
                + "check the spelling against docs/operations.md"
        )
    }

    @Test(
        "an unknown key is matched to the key most likely meant, or to none",
        arguments: [
            ("max_connections: 10", "(did you mean limits.max_connections?)"),
            ("trust_bundles: [{ trust_domain: a, pem: x }]", "(did you mean trust_bundles[0].pem_file?)"),
            ("user_issuers: [{ issuer: a, jwks_file: b }, { issuer: c, jwks_ulr: d }]", "user_issuers[1].jwks_url?"),
            ("dev_trust_domain: example.org", "(did you mean development_trust_domain?)"),
            ("colour: blue", nil),
        ]
    )
    func suggestions(yaml: String, suggestion: String?) throws {
        let problem = try #require(Self.problem("development: true\n" + yaml))
        #expect(problem.code == "unknown_key")
        if let suggestion {
            #expect(problem.message.contains(suggestion), "\(problem)")
        } else {
            #expect(!problem.message.contains("did you mean"), "\(problem)")
        }
    }

    @Test("values of the wrong type name the key, the line and column, what was expected and what was found")
    func wrongTypes() throws {
        let yaml = """
            development: true
            limits:
              burst: lots
            tokens: [300]
            trust_bundles: { trust_domain: a }
            dpop_nonces: maybe
            """
        let problem = try #require(Self.problem(yaml))
        #expect(problem.code == "config_type_mismatch")
        let lines = problem.message.split(separator: "\n").dropFirst().map(String.init)
        #expect(
            lines == [
                "  config_type_mismatch: limits.burst at line 3, column 10 must be a number (found \"lots\")",
                "  config_type_mismatch: tokens at line 4, column 9 must be a mapping of keys (found a list)",
                "  config_type_mismatch: trust_bundles at line 5, column 16 must be a list (found a mapping)",
                "  config_type_mismatch: dpop_nonces at line 6, column 14 must be true or false (found \"maybe\")",
            ],
            "\(problem)"
        )
    }

    @Test("unknown keys and wrong types together: all reported, under unknown_key")
    func mixed() throws {
        let problem = try #require(Self.problem("development: true\nlimits: { open_tasks: many, brust: 5 }\n"))
        #expect(problem.code == "unknown_key")
        #expect(problem.message.contains("config_type_mismatch: limits.open_tasks at line 2, column 23"), "\(problem)")
        #expect(problem.message.contains("unknown_key: unknown key limits.brust at line 2, column 29"), "\(problem)")
        #expect(problem.message.contains("(did you mean limits.burst?)"), "\(problem)")
    }

    @Test("a required key left out of an entry is named, with the entry's position")
    func missingKey() throws {
        let problem = try #require(Self.problem("development: true\ntls: { certificate: /a.pem }\n"))
        #expect(problem.code == "config_type_mismatch")
        #expect(problem.message.contains("tls.listen is missing from the mapping at line 2, column 6"), "\(problem)")
        let entry = try #require(Self.problem("resource_servers:\n  - audience: https://docs.example.org\n"))
        #expect(entry.message.contains("resource_servers[0].workloads is missing"), "\(entry)")
    }

    @Test("a key left out or left empty keeps today's default, and a file turns development and TLS off")
    func defaults() throws {
        var expected = BrokerConfiguration()
        expected.tls = nil
        expected.origins = ["development": "the configuration file"]
        #expect(try BrokerConfiguration.parse(yaml: "development: true") == expected)
        var empty = try BrokerConfiguration.parse(yaml: "development: true\nlisten:\ntokens:\nlimits:\nmaintenance:\n")
        empty.origins = expected.origins
        #expect(empty == expected)
        let partial = try BrokerConfiguration.parse(yaml: "limits: { burst: 50 }\ntokens: { key_publish_lead: 900 }")
        #expect(!partial.development && partial.tls == nil)
        #expect(
            partial.limits.burst == 50 && partial.limits.requestsPerSecond == 100 && partial.limits.openTasks == 100
        )
        #expect(partial.limits.maxConnections == nil && partial.limits.idleTimeout == 30)
        #expect(partial.tokens.keyPublishLead == 900 && partial.tokens.defaultLifetime == 300)
        #expect(partial.maintenance == BrokerConfiguration().maintenance)
        #expect(partial.origins["limits.burst"] == "the configuration file" && partial.origins["listen"] == nil)
        let nothing = try BrokerConfiguration.parse(yaml: "# only a comment\n")
        #expect(!nothing.development && nothing.tls == nil && nothing.listen == "127.0.0.1:8080")
    }

    @Test("a JSON file is read the same way, with lines and columns, through --config")
    func json() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("writ-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
        {
          "development": true,
          "tokens": { "max_lifetime": 600 },
          "limits": { "open_tasks": "many" }
        }
        """.write(to: file, atomically: true, encoding: .utf8)
        let problem = #expect(throws: BrokerConfiguration.Problem.self) {
            try BrokerConfiguration.load(file: file.path, environment: [:])
        }
        #expect(problem?.code == "unknown_key")
        #expect(
            problem?.message.contains("the file \(file.path) has 2 mistakes") == true,
            "\(String(describing: problem))"
        )
        #expect(
            problem?.message.contains(
                "unknown key tokens.max_lifetime at line 3, column 15 (did you mean tokens.maximum_lifetime?)"
            ) == true,
            "\(String(describing: problem))"
        )
        #expect(
            problem?.message.contains("limits.open_tasks at line 4, column 29 must be a whole number (found \"many\")")
                == true,
            "\(String(describing: problem))"
        )
        try """
        { "development": true, "listen": "127.0.0.1:9100", "tokens": { "default_lifetime": 60 } }
        """.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try BrokerConfiguration.load(file: file.path, environment: [:])
        #expect(configuration.listen == "127.0.0.1:9100" && configuration.tokens.defaultLifetime == 60)
        #expect(configuration.setting("listen", "x") == "listen x (the file \(file.path))")
    }

    @Test("every key in the example configuration of docs/operations.md is one the broker reads")
    func documentedExample() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/operations.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.range(of: "## Configuration"))
        let start = try #require(text.range(of: "```yaml\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let configuration = try BrokerConfiguration.parse(yaml: String(text[start.upperBound..<end.lowerBound]))
        #expect(configuration.workloadIssuers.count == 3 && configuration.limits.maxConnections == 10000)
    }
}

@Suite("Shared Signals transmitters in the configuration")
struct SignalTransmitterConfigurationTests {
    @Test(
        "a transmitter needs an issuer and exactly one key source, fetched over https or on this machine",
        arguments: [
            ("signal_transmitters:\n  - { jwks_file: /k.json }", "signal_transmitters[0].issuer is required"),
            (
                "signal_transmitters:\n  - { issuer: https://idp.example, jwks_file: /k.json, jwks_url: https://idp.example/k }",
                "exactly one of jwks_file, jwks_url"
            ),
            ("signal_transmitters:\n  - { issuer: https://idp.example }", "exactly one of jwks_file, jwks_url"),
            (
                "signal_transmitters:\n  - { issuer: https://idp.example, jwks_url: http://idp.example/k }",
                "signal_transmitters[0]"
            ),
        ]
    )
    func refused(_ yaml: String, _ message: String) throws {
        let configuration = try BrokerConfiguration.parse(yaml: "development: true\n" + yaml)
        do {
            try configuration.validate()
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.code == "invalid_value")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test("a transmitter with a key file is read, its audience the broker's issuer URL unless given")
    func accepted() throws {
        let configuration = try BrokerConfiguration.parse(
            yaml: "development: true\nsignal_transmitters:\n  - { issuer: https://idp.example, jwks_file: /k.json }"
        )
        try configuration.validate()
        #expect(configuration.signalTransmitters.first?.issuer == "https://idp.example")
        #expect(configuration.signalTransmitters.first?.jwksFile == "/k.json")
    }
}
