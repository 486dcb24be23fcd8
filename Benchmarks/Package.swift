// swift-tools-version: 6.1
// package-benchmark suites, kept out of `swift test`: run with `make bench` (or `swift package benchmark` here).
import PackageDescription

let package = Package(
    name: "leadscore-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "leadscore"),   // a symlink to the repository, so the identity does not depend on the checkout folder
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LeadScoring", package: "leadscore"),
                .product(name: "LeadSim", package: "leadscore"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
