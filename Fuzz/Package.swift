// swift-tools-version:6.0
import PackageDescription

// libFuzzer target for pipe's NIfTI reader, kept out of the main package because a fuzzer
// executable has no main() of its own. Build and run:
//   cd Fuzz && swift build -c debug --sanitize=fuzzer --sanitize=address \
//       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
//   mkdir -p corpus && cp ../Tests/Fixtures/*.nii.gz corpus/
//   .build/debug/NIfTIFuzz corpus -max_total_time=600 -rss_limit_mb=2048 -malloc_limit_mb=1024
// (Without the explicit -sanitize-coverage, this toolchain links libFuzzer but instruments nothing.)
let package = Package(
    name: "pipe-fuzz",
    dependencies: [.package(name: "pipe", path: "..")],
    targets: [
        .executableTarget(
            name: "NIfTIFuzz",
            dependencies: [.product(name: "NIfTI", package: "pipe")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
