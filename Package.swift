// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "faultline",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "faultline", targets: ["faultline"]),
        .library(name: "FaultlineCore", targets: ["FaultlineCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // libcurl and libpq are loaded on first use (see their shim.h), so neither is linked:
        // only their headers are needed at build time.
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev", "libnl-nf-3-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "FaultlineCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "FaultlineLinux",
            dependencies: ["FaultlineCore", "CCurl", "CNetlink", "CPostgres"]
        ),
        .target(
            name: "FaultlineCLI",
            dependencies: [
                "FaultlineCore", "FaultlineLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "faultline", dependencies: ["FaultlineCLI"]),
        .testTarget(
            name: "FaultlineCoreTests",
            dependencies: ["FaultlineCore"],
            resources: [.copy("Fixtures")]
        ),
        .target(name: "FaultlineTestSupport", path: "Tests/Support"),
        .testTarget(name: "FaultlineLinuxTests", dependencies: ["FaultlineLinux", "FaultlineCore", "FaultlineTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["FaultlineCore", "FaultlineLinux", "FaultlineTestSupport"]),
    ]
)
