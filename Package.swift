// swift-tools-version:6.1
import PackageDescription

/// Strict settings, declared once and applied to every target.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "writ",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WritToken", targets: ["WritToken"]),
        .library(name: "WritVerifier", targets: ["WritVerifier"]),
        .library(name: "WritPolicy", targets: ["WritPolicy"]),
        .library(name: "WritBroker", targets: ["WritBroker"]),
        .library(name: "WritVerifierHummingbird", targets: ["WritVerifierHummingbird"]),
        .library(name: "WritAgent", targets: ["WritAgent"]),
        .library(name: "WritAgentMCP", targets: ["WritAgentMCP"]),
        .library(name: "WritAPI", targets: ["WritAPI"]),
        .executable(name: "writ", targets: ["writ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
    ],
    targets: [
        // zlib from the system (Debian's zlib1g-dev), for Token Status Lists (ZLIB/DEFLATE, RFC 1950/1951).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The token profile: claims, authorization details, JWS, keys, JWKS, DPoP, SPIFFE IDs, status lists.
        .target(
            name: "WritToken",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The wire: request and response types of every route, shared by the broker and its clients.
        .target(
            name: "WritAPI",
            dependencies: ["WritToken"],
            swiftSettings: strictSettings
        ),
        // What resource servers link: verify, authorize, key refresh, revocation view.
        .target(
            name: "WritVerifier",
            dependencies: [
                "WritToken",
                "WritAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The policy language: parse, validate, evaluate, explain, graph.
        .target(
            name: "WritPolicy",
            dependencies: [
                "WritToken",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        // A Hummingbird middleware over WritVerifier, for resource servers built on Hummingbird.
        .target(
            name: "WritVerifierHummingbird",
            dependencies: [
                "WritVerifier", "WritToken",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The agent SDK: tasks, tokens, authorised requests, delegation.
        .target(
            name: "WritAgent",
            dependencies: [
                "WritToken",
                "WritAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        // The agent SDK for MCP clients (modelcontextprotocol/swift-sdk): a transport carrying a task's tokens.
        .target(
            name: "WritAgentMCP",
            dependencies: ["WritAgent", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: strictSettings
        ),
        // libargon2 from the system (Debian's libargon2-dev), for operator-token hashes.
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        // The service: identity, tasks, issuance, revocation and its feed, the HTTP API, the store.
        .target(
            name: "WritBroker",
            dependencies: [
                "WritToken",
                "WritAPI",
                "WritVerifier",
                "WritPolicy",
                "CArgon2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        // Measurements behind `writ bench`: load against a running broker. No yardstick library here.
        .target(
            name: "WritBenchmarks",
            dependencies: [
                "WritToken",
                "WritVerifier",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        // The `writ` command's verbs, as a library so they can be tested in process.
        .target(
            name: "WritCLI",
            dependencies: [
                "WritToken",
                "WritAPI",
                "WritVerifier",
                "WritPolicy",
                "WritBenchmarks",
                "WritBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "writ",
            dependencies: [
                "WritCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // `writ-bench`: the verify path against the raw signature check and jwt-kit, and policy decision latency.
        // The only target that links jwt-kit, as a yardstick; a binary of its own so `writ` never carries it.
        .executableTarget(
            name: "writ-bench",
            dependencies: [
                "WritBenchmarks",
                "WritToken",
                "WritVerifier",
                "WritPolicy",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Shared fixtures for tests: fixed clocks, keys, token factories.
        .target(
            name: "WritTestSupport",
            dependencies: [
                "WritToken",
                "WritVerifier",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritTokenTests",
            dependencies: ["WritToken", "WritTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritVerifierTests",
            dependencies: [
                "WritVerifier", "WritToken", "WritTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritAPITests",
            dependencies: ["WritAPI", "WritToken", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritPolicyTests",
            dependencies: ["WritPolicy", "WritToken"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritBrokerTests",
            dependencies: [
                "WritBroker", "WritToken", "WritVerifier", "WritPolicy", "WritTestSupport", "WritAgent", "WritAPI",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritVerifierHummingbirdTests",
            dependencies: [
                "WritVerifierHummingbird", "WritVerifier", "WritToken", "WritTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        // Example services for the end-to-end suite and `make demo`.
        .executableTarget(
            name: "writ-example-documents",
            dependencies: [
                "WritVerifier", "WritVerifierHummingbird", "WritToken",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/DocumentsService",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "writ-example-mcp",
            dependencies: [
                "WritVerifier", "WritVerifierHummingbird", "WritToken",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/MCPServer",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "writ-example-assistant",
            dependencies: [
                "WritAgent", "WritToken",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Examples/RetrievalAssistant",
            swiftSettings: strictSettings
        ),
        // End-to-end suites that run the real `writ` executable on loopback.
        .testTarget(
            name: "WritIntegrationTests",
            dependencies: [
                "WritBroker", "WritToken", "WritVerifier", "WritAgent", "WritAgentMCP", "WritAPI", "WritPolicy",
                "WritTestSupport",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "integration",
            exclude: ["Python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WritCLITests",
            dependencies: [
                "WritCLI", "WritToken", "WritTestSupport", "WritBroker", "WritAPI",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
