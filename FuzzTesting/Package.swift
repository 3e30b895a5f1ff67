// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, kept apart so the main build stays unsanitised. Build and run with `make fuzz`.
let package = Package(
    name: "WritFuzzing",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "writ", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "FuzzAccessToken",
            dependencies: [.product(name: "WritToken", package: "writ")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzDPoPProof",
            dependencies: [.product(name: "WritToken", package: "writ")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzPolicy",
            dependencies: [
                .product(name: "WritPolicy", package: "writ"),
                .product(name: "WritToken", package: "writ"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
