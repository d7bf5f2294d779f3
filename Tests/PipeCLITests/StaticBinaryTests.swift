import Foundation
import TestSupport
import XCTest

/// The one file to copy to a cluster: `swift build -c release --static-swift-stdlib` (built by
/// scripts/test into `PIPE_STATIC_BINARY`) links no Swift or Foundation library, and runs a small
/// study with an empty environment, giving the same bytes as the test build.
final class StaticBinaryTests: XCTestCase {
    func testTheStaticBinaryNeedsNoToolchain() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["PIPE_STATIC_BINARY"], FileManager.default.isExecutableFile(atPath: path) else {
            if environment["PIPE_REQUIRE_STATIC"] == "1" { XCTFail("PIPE_STATIC_BINARY is not built (scripts/test builds it)") }
            throw XCTSkip("no static binary (PIPE_STATIC_BINARY)")
        }
        let ldd = try runProcess("/usr/bin/ldd", [path])
        XCTAssertEqual(ldd.status, 0, ldd.output)
        for library in ["swift", "foundation", "dispatch", "blocksruntime", "icu"] {
            XCTAssertFalse(ldd.output.lowercased().contains(library), "the static binary links \(library):\n\(ldd.output)")
        }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-static-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = folder.appendingPathComponent("small.json")
        try """
        {"pipe": 1, "name": "static-check", "cohort": {"subjects": ["01", "02"], "sessions": ["baseline"]},
         "stages": {
           "data": {"kind": "synth", "scale": "demo", "seed": 1, "publish": false},
           "cohort": {"kind": "synth_cohort", "scale": "demo", "seed": 1},
           "clean": {"kind": "clean", "from": "data", "smoothing_fwhm": 6, "confounds": "6P+wm_csf", "high_pass": 0.01, "low_pass": 0.1, "publish": false},
           "connectivity": {"kind": "connectivity", "from": ["clean", "cohort"], "seeds": [{"name": "LBAleft", "label": "LBA_left"}]}
         }}
        """.write(to: spec, atomically: false, encoding: .utf8)
        // No PATH, no HOME, nothing: what a bare node gives a job.
        let bare = try runProcess("/usr/bin/env", ["-i", path, "run", spec.path, "--cache-dir", folder.appendingPathComponent("cache-static").path,
                                                   "--outputs", folder.appendingPathComponent("out-static").path])
        XCTAssertEqual(bare.status, 0, bare.output)
        let reference = try runPipe(["run", spec.path, "--cache-dir", folder.appendingPathComponent("cache").path,
                                     "--outputs", folder.appendingPathComponent("out").path, "--quiet"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        func tree(_ root: URL) throws -> [String: Data] {
            var out: [String: Data] = [:]
            let e = FileManager.default.enumerator(atPath: root.path)
            while let rel = e?.nextObject() as? String {
                if ["dataset_description.json", "methods.md"].contains(rel) { continue }
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: root.appendingPathComponent(rel).path, isDirectory: &isDir), !isDir.boolValue {
                    out[rel] = try Data(contentsOf: root.appendingPathComponent(rel))
                }
            }
            return out
        }
        let a = try tree(folder.appendingPathComponent("out-static")), b = try tree(folder.appendingPathComponent("out"))
        XCTAssertGreaterThan(a.count, 5)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        XCTAssertEqual(a.keys.filter { a[$0] != b[$0] }.sorted(), [], "the static release binary must give the test build's bytes")
    }
}
