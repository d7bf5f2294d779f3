import Foundation
import XCTest
import TestSupport

/// End-to-end: SIGKILL a running `pipe run` at random (seeded) moments; every rerun must complete
/// with outputs byte-identical to an uninterrupted run, and the cache must verify clean.
final class KillTests: XCTestCase {

    func writeStudy(_ s: Study) throws {
        let subjects = ["01", "02", "03", "04"]
        try s.writeScans(subjects: subjects, sessions: ["1", "2"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03", "04"], "sessions": ["1", "2"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 40, "salt": 0.5},
                    "subj": {"kind": "test.subject", "from": "slow"},
                    "total": {"kind": "test.sum", "from": "subj"}}}
        """)
    }

    func testKilledRunsResumeToIdenticalOutputs() throws {
        let reference = try Study("kill-ref")
        try writeStudy(reference)
        let t0 = Date()
        try reference.runOK("--jobs", "2")
        let coldSeconds = Date().timeIntervalSince(t0)
        let expected = try reference.outputs()
        XCTAssertEqual(expected.count, 8 + 8 + 4 + 1)

        let s = try Study("kill")
        try writeStudy(s)
        var rng = SplitMix64(seed: 20261125)
        // At least 22 iterations, more (up to 40) until 22 runs were really killed mid-run.
        var killedMidRun = 0
        var i = 0
        while i < 22 || (killedMidRun < 22 && i < 40) {
            defer { i += 1 }
            let cache = s.root.appendingPathComponent("cache-\(i)")
            let out = s.dir.appendingPathComponent("out")
            try? FileManager.default.removeItem(at: out)
            // One or two kills per iteration (the second one hits a resumed run).
            let kills = i % 3 == 2 ? 2 : 1
            for _ in 0..<kills {
                let p = try ToolHarness.start(["run", s.spec.path, "--quiet", "--jobs", "2", "--cache-dir", cache.path], env: s.env)
                let delay = Double.random(in: 0...(coldSeconds * 0.9), using: &rng)
                usleep(useconds_t(delay * 1_000_000))
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                if p.terminationReason == .uncaughtSignal { killedMidRun += 1 }
                // No entry folder without its manifest is ever visible under tasks/.
                let tasks = cache.appendingPathComponent("tasks")
                for key in (try? FileManager.default.contentsOfDirectory(atPath: tasks.path)) ?? [] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: tasks.appendingPathComponent("\(key)/manifest.json").path),
                                  "iteration \(i): entry \(key) has no manifest")
                }
            }
            let r = try ToolHarness.run(["run", s.spec.path, "--quiet", "--jobs", "2", "--cache-dir", cache.path], env: s.env)
            XCTAssertEqual(r.status, 0, "iteration \(i): rerun failed: \(r.stderr)")
            XCTAssertEqual(try s.outputs(), expected, "iteration \(i): outputs differ from the uninterrupted run")
            let v = try ToolHarness.run(["cache", "verify", "--cache-dir", cache.path])
            XCTAssertTrue(v.stdout.contains("21 ok, 0 corrupt"), "iteration \(i): \(v.stdout)")
            try? FileManager.default.removeItem(at: cache)
        }
        XCTAssertGreaterThanOrEqual(killedMidRun, 20, "at least 20 runs must actually be killed by SIGKILL")
    }
}
