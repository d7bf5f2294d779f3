import Foundation
import XCTest

/// End-to-end: SIGTERM ends a run even when its graceful cancel cannot finish (here: a `pipe
/// worker` child that is stopped, so the run would wait for it forever).
final class SignalTests: XCTestCase {
    /// A run with the worker executor whose one slow task's worker is stopped (SIGSTOP).
    func startRunWithStoppedWorker(_ s: Study) throws -> (run: Process, worker: Int32) {
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 600000}}}
        """)
        let cache = s.dir.appendingPathComponent("cache").path
        let run = try ToolHarness.start(["run", s.spec.path, "--quiet", "--executor", "worker"], env: s.env,
                                        stderr: s.root.appendingPathComponent("stderr.txt"))
        XCTAssertTrue(ProcessWatch.poll(seconds: 30) {
            ((try? String(contentsOf: s.execLog, encoding: .utf8)) ?? "").contains("test.slow")
        }, "the slow task never started")
        let workers = ProcessWatch.pids(withArguments: ["worker", cache])
        XCTAssertEqual(workers.count, 1)
        let worker = try XCTUnwrap(workers.first)
        kill(worker, SIGSTOP)
        XCTAssertTrue(ProcessWatch.poll(seconds: 10) { ProcessWatch.state(of: worker) == "T" })
        return (run, worker)
    }

    func testFirstSignalEndsTheRunWithinTheGracePeriod() throws {
        let s = try Study("sigterm-grace")
        let (run, worker) = try startRunWithStoppedWorker(s)
        defer { kill(worker, SIGKILL) }
        let sent = Date()
        kill(run.processIdentifier, SIGTERM)
        // Grace is 10 s (SignalTrap.grace).
        guard ProcessWatch.waitForExit(run, seconds: 20, "run after one SIGTERM") else { return }
        let seconds = Date().timeIntervalSince(sent)
        XCTAssertGreaterThan(seconds, 5, "the run must first wait for its tasks to stop")
        XCTAssertEqual(run.terminationReason, .exit)
        XCTAssertEqual(run.terminationStatus, 130)
        let stderr = (try? String(contentsOf: s.root.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? ""
        XCTAssertTrue(stderr.contains("stopped without waiting for running tasks"), stderr)
    }

    func testSecondSignalEndsTheRunAtOnce() throws {
        let s = try Study("sigterm-twice")
        let (run, worker) = try startRunWithStoppedWorker(s)
        defer { kill(worker, SIGKILL) }
        kill(run.processIdentifier, SIGTERM)
        // Two SIGTERMs sent back to back merge into one: send the second once the run has acted on
        // the first, which it does by sending SIGTERM to its worker (pending, as the worker is stopped).
        XCTAssertTrue(ProcessWatch.poll(seconds: 5) { ProcessWatch.hasPendingSignal(worker, SIGTERM) },
                      "the run did not pass the first SIGTERM on to its worker")
        kill(run.processIdentifier, SIGTERM)
        guard ProcessWatch.waitForExit(run, seconds: 3, "run after two SIGTERMs") else { return }
        XCTAssertEqual(run.terminationReason, .exit)
        XCTAssertEqual(run.terminationStatus, 130)
    }
}
