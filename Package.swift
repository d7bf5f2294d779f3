// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: pipe -> PipeCLI -> Connectivity -> {PipelineEngine, NIfTI, Numerics, Figures};
// NIfTI -> CZlib, CIsal; Figures -> CZlib; Numerics -> CKernels; Numerics, PipelineEngine -> CThreadBudget;
// PipelineEngine -> CSHA256.
// The engine knows nothing about brains; the imaging modules know nothing about scheduling.
// The numeric modules are optimised in debug builds too: `swift test` runs real-sized numerics
// (synthetic scans, permutation tests) that are 10-50x slower unoptimised.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "pipe",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pipe", targets: ["pipe"]),
        .library(name: "NIfTI", targets: ["NIfTI"]),
        .library(name: "Numerics", targets: ["Numerics"]),
        .library(name: "PipelineEngine", targets: ["PipelineEngine"]),
        .library(name: "PipeCLI", targets: ["PipeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // ISA-L's gzip inflate, loaded at run time (dlopen): absent, pipe inflates with zlib.
        .target(name: "CIsal"),
        .target(name: "NIfTI", dependencies: ["CZlib", "CIsal", "CKernels"], swiftSettings: optimisedInDebug),
        // PNG encoding, colour maps, brain slices and SVG charts for the report.
        .target(name: "Figures", dependencies: ["CZlib"], swiftSettings: optimisedInDebug),
        // Hot loops with AVX2 and AVX-512 paths chosen at run time: the permutation kernel's
        // products, Butterworth sections, confound regression, the smoothing convolution. No FMA
        // contraction, so every path gives the same bits.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        // The thread-local CPU budget of the running task: set by the engine, read by the kernels.
        .target(name: "CThreadBudget"),
        // SHA-256, the cache's content hash: the x86 SHA extensions where the CPU has them, else
        // portable C. Optimised in debug builds too: every test hashes its outputs.
        .target(name: "CSHA256", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "Numerics", dependencies: ["CKernels", "CThreadBudget"], swiftSettings: optimisedInDebug),
        .target(
            name: "PipelineEngine",
            dependencies: ["CThreadBudget", "CSHA256"]
        ),
        .target(name: "Connectivity", dependencies: ["NIfTI", "Numerics", "PipelineEngine", "Figures"], swiftSettings: optimisedInDebug),
        .target(
            name: "PipeCLI",
            dependencies: [
                "Connectivity",
                "NIfTI",
                "PipelineEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "pipe", dependencies: ["PipeCLI", "Connectivity", "PipelineEngine"]),
        // Test-only: the real CLI with test stage kinds; run by PipelineEngineTests' end-to-end tests.
        .executableTarget(
            name: "pipe-testtool",
            dependencies: ["PipeCLI", "PipelineEngine"],
            path: "Tests/EngineTestKinds"
        ),
        // Benchmarks (not tests): `swift run -c release nifti-bench`.
        .executableTarget(name: "nifti-bench", dependencies: ["NIfTI"], path: "benchmarks/NIfTIBenchmark"),
        .executableTarget(name: "signal-bench", dependencies: ["Numerics"], path: "benchmarks/SignalBenchmark"),
        .executableTarget(name: "stats-bench", dependencies: ["Numerics"], path: "benchmarks/StatsBenchmark"),
        // Helpers shared by the test targets (a cross-check Python finder, a seeded generator).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "NIfTITests", dependencies: ["NIfTI", "TestSupport"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics", "CKernels", "TestSupport"]),
        .testTarget(name: "ConnectivityTests", dependencies: ["Connectivity", "TestSupport"]),
        .testTarget(name: "FiguresTests", dependencies: ["Figures", "TestSupport"]),
        .testTarget(name: "PipelineEngineTests", dependencies: ["PipelineEngine", "CSHA256", "TestSupport"]),
        // End-to-end tests of the built `pipe` binary.
        .testTarget(name: "PipeCLITests", dependencies: ["pipe", "NIfTI", "TestSupport"]),
    ]
)
