// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "chainkv",
    platforms: [.macOS(.v15)],  // 15: task executors (`ChainKVClient.taskExecutor`)
    products: [
        .library(name: "ChainKV", targets: ["ChainKV"]),
        // The C ABI declared in include/chainkv.h, built as libchainkvc.so (link with -lchainkvc):
        // the product name "chainkv" belongs to the CLI. clients/python loads it with ctypes.
        .library(name: "chainkvc", type: .dynamic, targets: ["ChainKVC"]),
        .executable(name: "chainkv-server", targets: ["chainkv-server"]),
        .executable(name: "chainkv", targets: ["chainkv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Optional TLS on client and peer links.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Pure protocol state machines: events in, actions out. No I/O, no clock, no async.
        .target(name: "ChainCore"),
        // The release number and the git commit of the build (`--version`); the commit is written
        // at build time by the GitCommit plugin (see Plugins/GitCommit for why a plugin).
        .target(name: "ChainVersion", plugins: ["GitCommit"]),
        .plugin(name: "GitCommit", capability: .buildTool()),
        // The frame format and every message, with the core's types (Update, RequestID, WriteOutcome) on the wire.
        .target(name: "ChainWire", dependencies: [
            "ChainCore",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3"),
        // HMAC-SHA256 for the shared-secret handshake, from the system's libcrypto (OpenSSL). It
        // replaced swift-crypto, whose own copy of BoringSSL was minutes of every fresh build.
        .systemLibrary(name: "COpenSSLCrypto", pkgConfig: "libcrypto"),
        // A VFS shim that hands a transaction's WAL frames to the OS in one write (walbuffer.c).
        .target(name: "CSQLiteWALBuffer", dependencies: ["CSQLite"]),
        .target(name: "ChainStorage", dependencies: [
            "ChainCore", "CSQLite", "CSQLiteWALBuffer",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .systemLibrary(name: "CZooKeeper"),
        .target(name: "ChainCoordination", dependencies: [
            "ChainCore", "CZooKeeper", "ChainFiles",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // Bounded reads of files a user names (configuration, secrets, credentials).
        .target(name: "ChainFiles"),
        // The node configuration file alone (no NIO, no TLS): shared by the server and fuzz-json.
        .target(name: "ChainServerConfig", dependencies: [
            "ChainFiles",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ChainServer", dependencies: [
            "ChainCore", "ChainWire", "ChainTransport", "ChainStorage", "ChainCoordination", "ChainServerConfig", "ChainBench",
            "ChainVersion",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Linearizability checking of recorded key-value histories (pure: standard library only).
        .target(name: "ChainCheck"),
        // Pure helpers of `chainkv bench` (standard library and libc only): CPU time per operation from
        // /proc/<pid>/stat and getrusage, pid lists.
        .target(name: "ChainBench"),
        // Connections both sides share: request/reply over one TCP connection, TLS, the shared-secret
        // handshake (both ends), refused-connection detection, the client-visible error type.
        .target(name: "ChainTransport", dependencies: [
            "ChainWire", "ChainFiles",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            "COpenSSLCrypto",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The client library (Swift API and the paper's five calls); re-exports ChainTransport.
        .target(name: "ChainKV", dependencies: [
            "ChainCore", "ChainWire", "ChainTransport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(name: "ChainKVC", dependencies: ["ChainKV"]),
        .executableTarget(name: "chainkv-server", dependencies: [
            "ChainServer", "ChainVersion",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "chainkv", dependencies: [
            "ChainKV", "ChainCore", "ChainCoordination", "ChainCheck", "ChainWire", "ChainBench", "ChainVersion", "ChainFiles",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The fault runner of issue 6: ensemble, chain, clients, nemesis, linearizability check.
        .executableTarget(name: "chainkv-torture", dependencies: [
            "ChainKV", "ChainCore", "ChainCheck", "ChainCoordination", "ChainStorage", "ChainTestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // libFuzzer targets: only an entry point each (build with scripts/fuzz, see README.md, "Fuzzing").
        .executableTarget(name: "fuzz-wire", dependencies: ["ChainWire", "ChainCore", .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(name: "fuzz-json", dependencies: ["ChainCoordination", "ChainServerConfig"]),
        .testTarget(name: "ChainCoreTests", dependencies: ["ChainCore", "ChainTestSupport"]),
        .testTarget(name: "ChainCheckTests", dependencies: ["ChainCheck", "ChainTestSupport"]),
        .testTarget(name: "ChainBenchTests", dependencies: ["ChainBench"]),
        .testTarget(name: "ChainWireTests", dependencies: ["ChainWire", "ChainCore", .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "ChainStorageTests", dependencies: ["ChainStorage", "ChainCore", "CSQLite"]),
        // Test helpers shared by the test targets (a cuttable TCP proxy for partition tests).
        .target(name: "ChainTestSupport", path: "Sources/ChainTestSupport"),
        // The server's shells driven without sockets or sleeps: embedded loop and channels, fake storage and links.
        .testTarget(name: "ChainServerTests", dependencies: ["ChainServer", "ChainCore", "ChainWire", "ChainStorage", "ChainCoordination",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The client's logic that needs no server (the order of a watch's changes across slot moves).
        .testTarget(name: "ChainKVTests", dependencies: ["ChainKV", "ChainCore"]),
        // The client connection against a scripted NIO server on loopback: pipelining, timeouts, writes per turn.
        .testTarget(name: "ChainTransportTests", dependencies: ["ChainTransport", "ChainWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Compiles against `import ChainKV` alone, as a program that depends on the ChainKV product
        // would: every type of the client's public API is nameable from it, members included
        // (MemberImportVisibility), and nothing in it needs NIO or another chainkv module.
        .testTarget(name: "ChainKVAPITests", dependencies: ["ChainKV"],
                    swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        .testTarget(name: "ChainCoordinationTests", dependencies: ["ChainCoordination", "ChainCore", "ChainTestSupport"]),
        .testTarget(name: "ChainFilesTests", dependencies: ["ChainFiles", "ChainServerConfig", "ChainCoordination"]),
        .testTarget(name: "IntegrationTests", dependencies: ["ChainKV", "ChainCore", "ChainCoordination", "ChainWire", "ChainStorage", "ChainTestSupport",
            "ChainVersion",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], exclude: ["c", "python"]),
    ]
)
