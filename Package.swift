// swift-tools-version:6.0
import PackageDescription

#if canImport(Glibc)
    import Glibc
#endif

/// The release binary is linked by lld (shipped with the Swift toolchain) to keep a run's
/// resident memory down (BENCHMARKS.md has the figures):
/// - the functions a typical run executes are laid out together, from
///   Sources/faultline/hot-functions.txt (regenerate with scripts/hot-functions.sh);
/// - relative relocations are packed (DT_RELR) where the C library can load them (glibc 2.36+);
/// - the executable exports no symbols: the toolchain's static link file asks for
///   `-export-dynamic`, which put 4,800 of faultline's, Yams's and ArgumentParser's names in the
///   dynamic symbol table (0.4 MiB a run read); nothing looks them up (the C shims `dlsym` only
///   in the libraries they open).
let releaseLinking: [LinkerSetting] = {
    var flags = [
        "-use-ld=lld",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/faultline/hot-functions.txt",
        "-Xlinker", "--no-warn-symbol-ordering",
        "-Xlinker", "--no-export-dynamic",
    ]
    #if canImport(Glibc)
        var name = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
        _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &name, name.count)
        let version =
            String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ").last?.split(
                separator: "."
            ).compactMap { Int($0) } ?? []
        if version.lexicographicallyPrecedes([2, 36]) == false { flags += ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"] }
    #endif
    return [.unsafeFlags(flags, .when(platforms: [.linux], configuration: .release))]
}()

/// The agent product is linked the same way, without the run's function order, and without its
/// symbol table and debug information: every host receives, decompresses and hashes it, and the
/// 8 MiB of names made it two thirds larger (25 MiB to 15 MiB). Its crash backtraces show
/// addresses; the same commit built without `--strip-all` names them.
let agentLinking: [LinkerSetting] = [
    .unsafeFlags(
        ["-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "--gc-sections", "-Xlinker", "--strip-all"],
        .when(platforms: [.linux], configuration: .release)
    )
]

let package = Package(
    name: "faultline",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "faultline", targets: ["faultline"]),
        .executable(name: "faultline-agent", targets: ["faultline-agent"]),
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
        // Linux calls Glibc's module lacks (timerfd), header-only.
        .systemLibrary(name: "CLinux"),
        .systemLibrary(
            name: "CPostgres",
            providers: [.apt(["libpq-dev"])]
        ),
        // Values, texts and fault data every product shares, Foundation's essentials only (no
        // ICU, no Yams): what the agent product is built from, with FaultlineAgent.
        .target(name: "FaultlineEssentials", dependencies: ["CLinux"]),
        // The experiment format (Yams), expectations, checkers, journal and reports.
        .target(
            name: "FaultlineCore",
            dependencies: ["FaultlineEssentials", .product(name: "Yams", package: "Yams")]
        ),
        // What runs on a host, for the agent product too: the agent, the faults' effects,
        // netlink, the ledger, the proxy.
        .target(
            name: "FaultlineAgent",
            dependencies: ["FaultlineEssentials", "CNetlink", "CLinux"]
        ),
        // The runner's side: runs, labs, ssh, probes, workloads (re-exports FaultlineAgent).
        .target(
            name: "FaultlineLinux",
            dependencies: ["FaultlineCore", "FaultlineAgent", "CCurl", "CNetlink", "CPostgres", "CLinux"]
        ),
        .target(
            name: "FaultlineCLI",
            dependencies: [
                "FaultlineCore", "FaultlineLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "faultline",
            dependencies: ["FaultlineCLI"],
            exclude: ["hot-functions.txt"],
            linkerSettings: releaseLinking
        ),
        // The agent product: what `faultline run` copies to SSH hosts (SSHAgentInstall).
        .executableTarget(
            name: "faultline-agent",
            dependencies: ["FaultlineAgent"],
            linkerSettings: agentLinking
        ),
        // Benchmark-only commands (bench/*.sh), kept out of the product's command line.
        .executableTarget(
            name: "faultline-bench",
            dependencies: [
                "FaultlineCore", "FaultlineLinux", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/FaultlineBench"
        ),
        // libFuzzer's target for the experiment, lab and inventory readers and the proxy API's requests: `make fuzz` builds it with
        // -sanitize=fuzzer (and -parse-as-library, for libFuzzer's own main).
        .executableTarget(name: "faultline-fuzz", dependencies: ["FaultlineCore", "FaultlineLinux"], path: "Tests/Fuzz"),
        .testTarget(
            name: "FaultlineCoreTests",
            dependencies: ["FaultlineCore", "FaultlineTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .target(name: "FaultlineTestSupport", dependencies: ["CLinux"], path: "Tests/Support"),
        .testTarget(
            name: "FaultlineLinuxTests", dependencies: ["FaultlineAgent", "FaultlineLinux", "FaultlineCore", "FaultlineTestSupport"]),
        .testTarget(
            name: "EndToEndTests", dependencies: ["FaultlineCore", "FaultlineAgent", "FaultlineLinux", "FaultlineTestSupport"],
            // Run from the checkout by the tests (python3), not a resource of the bundle.
            exclude: ["Fixtures/toxiproxy_client.py"]),
    ]
)
