// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "leadscore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "leadscored", targets: ["leadscored"]),
        .library(name: "LeadScoring", targets: ["LeadScoring"]),
        .library(name: "LeadKafka", targets: ["LeadKafka"]),
        .library(name: "LeadSim", targets: ["LeadSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // System library over Debian's librdkafka-dev (rdkafka.h + rdkafka_mock.h).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The only module that calls librdkafka.
        .target(
            name: "LeadKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: strict
        ),
        // Pure scoring engine: rules, Segment events, contact state, stages, alerts. No I/O.
        .target(
            name: "LeadScoring",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Synthetic Segment traffic (Zipf contacts, the example rules' event mix) for bench, demo and tests.
        .target(name: "LeadSim", dependencies: ["LeadScoring"], swiftSettings: strict),
        // Pipeline: Kafka batches → shard actors → outputs → offsets; checkpoints; dead letters.
        .target(
            name: "LeadRuntime",
            dependencies: [
                "LeadKafka", "LeadScoring",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // HTTP (metrics, health, contact queries).
        .target(
            name: "LeadOps",
            dependencies: [
                "LeadRuntime", "LeadScoring",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "leadscored",
            dependencies: [
                "LeadKafka", "LeadScoring", "LeadRuntime", "LeadOps", "LeadSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "LeadScoringTests", dependencies: ["LeadScoring"]),
        .testTarget(name: "LeadKafkaTests", dependencies: ["LeadKafka"]),
        .testTarget(name: "LeadRuntimeTests", dependencies: ["LeadRuntime", "LeadScoring", "LeadKafka", "LeadSim"]),
        .testTarget(name: "LeadOpsTests", dependencies: ["LeadOps", "LeadRuntime", "LeadScoring", "LeadKafka"]),
        // Separate processes: `leadscored dev-broker` + `leadscored run` (+ kcat), built once in release by `make test`.
        .testTarget(name: "EndToEndTests", dependencies: ["LeadScoring", "LeadKafka", "LeadSim"]),
    ]
)
