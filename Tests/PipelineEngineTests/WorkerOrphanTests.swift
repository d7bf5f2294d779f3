import Foundation
import XCTest

/// End-to-end: when a `pipe run --executor worker` is SIGKILLed, its `pipe worker` children stop
/// too (they must not go on writing into a cache whose lock nobody holds), leave no temporary
/// entry behind, and a rerun finishes with the outputs of an uninterrupted run.
final class WorkerOrphanTests: XCTestCase {
    /// Two slow tasks of about `ms` each (half sleeping, half writing in pieces).
    func writeStudy(_ s: Study, ms: Int) throws {
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": \(ms), "salt": 0.25},
                    "subj": {"kind": "test.subject", "from": "slow"},
                    "total": {"kind": "test.sum", "from": "subj"}}}
        """)
    }

    func testWorkersDieWithTheirKilledRun() throws {
        let ms = 6000
        let reference = try Study("orphan-ref")
        try writeStudy(reference, ms: ms)
        try reference.runOK("--jobs", "2", "--executor", "worker")
        let expected = try reference.outputs()
        XCTAssertEqual(expected.count, 2 + 2 + 2 + 1)

        let s = try Study("orphan")
        try writeStudy(s, ms: ms)
        let cache = s.dir.appendingPathComponent("cache")
        let run = try ToolHarness.start(["run", s.spec.path, "--quiet", "--jobs", "2", "--executor", "worker"], env: s.env)
        defer { for w in ProcessWatch.pids(withArguments: ["worker", cache.path]) { kill(w, SIGKILL) } }
        // Both slow tasks have started in their workers.
        XCTAssertTrue(ProcessWatch.poll(seconds: 30) {
            ((try? String(contentsOf: s.execLog, encoding: .utf8)) ?? "").components(separatedBy: "test.slow").count == 3
        }, "the slow tasks never started")
        let workers = ProcessWatch.pids(withArguments: ["worker", cache.path])
        XCTAssertEqual(workers.count, 2)
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        XCTAssertEqual(run.terminationReason, .uncaughtSignal)

        // Each task has about 5 s left: the workers must be gone well before.
        let stopped = ProcessWatch.poll(seconds: 3) { ProcessWatch.pids(withArguments: ["worker", cache.path]).isEmpty }
        XCTAssertTrue(stopped, "worker children still running 3 s after their run was killed: "
                      + "\(ProcessWatch.pids(withArguments: ["worker", cache.path]))")
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("tmp").path)) ?? []
        XCTAssertEqual(temporary, [], "a stopped worker left its temporary entry")

        try s.runOK("--jobs", "2", "--executor", "worker")
        XCTAssertEqual(try s.outputs(), expected)
    }
}
