import Foundation
import XCTest

/// End-to-end: the small things a new user trips on (issue 13's papercuts).
final class PapercutTests: XCTestCase {
    func testValidateNamesOnlyWhatTheCohortHasAndVersionNamesPipe() throws {
        let s = try Study("validate-words")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-1.txt"}}}
        """)
        let v = try s.tool("validate", "$SPEC")
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.hasSuffix("ok: 1 stage, 1 task; 1 subject\n"), v.stdout)
        let version = try s.tool("--version")
        XCTAssertTrue(version.stdout.hasPrefix("pipe 0."), version.stdout)
        XCTAssertFalse(version.stdout.contains("engine"), version.stdout)
        try s.runOK()
        let du = try s.tool("cache", "du", "$SPEC")
        XCTAssertTrue(du.stdout.contains(" KiB ") || du.stdout.contains(" B "), du.stdout)
        XCTAssertTrue(du.stdout.contains("1 entry in"), du.stdout)
        let duJSON = try s.tool("cache", "du", "$SPEC", "--json")
        let o = try JSONSerialization.jsonObject(with: Data(duJSON.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["entries"] as? Int, 1)
        XCTAssertGreaterThan(o["total"] as? Int ?? 0, 0)
        let graph = try s.tool("graph", "$SPEC", "--format", "dot")
        XCTAssertTrue(graph.stdout.contains("test.read (per scan, 1 task)"), graph.stdout)
    }

    /// Runs 6 scans' read then slow (4 s) tasks with one job, and sends `signal` once a slow task
    /// has started; returns when the run has ended, with its stderr file.
    private func startSlowRun(_ name: String, signal: Int32) throws -> (Study, Process, URL) {
        let s = try Study(name)
        let subjects = (1...6).map { String(format: "%02d", $0) }
        try s.writeScans(subjects: subjects, sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": [\(subjects.map { "\"\($0)\"" }.joined(separator: ", "))], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 4000}}}
        """)
        let err = s.root.appendingPathComponent("err.txt")
        let p = try ToolHarness.start(["run", s.spec.path, "--jobs", "1"], env: s.env, stderr: err)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? String(contentsOf: err, encoding: .utf8)) ?? "").contains("start  slow") { usleep(5_000) }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        return (s, p, err)
    }

    func testAKilledRunCountsTheTasksItDidNotFinish() throws {
        let (s, _, _) = try startSlowRun("killed", signal: SIGKILL)
        // The journal has no summary: the tasks without an outcome (one running when it died)
        // are not finished; "not run" said 0.
        let status = try s.tool("status", "$SPEC")
        let ran = try XCTUnwrap(status.stdout.components(separatedBy: "12 tasks: ").dropFirst().first?.split(separator: " ").first.flatMap { Int($0) }, status.stdout)
        XCTAssertTrue((1...11).contains(ran), status.stdout)
        XCTAssertTrue(status.stdout.contains("12 tasks: \(ran) ran, 0 cached, 0 failed, \(12 - ran) not finished"), status.stdout)
        XCTAssertTrue(status.stdout.contains("(the run was killed or is still running)"), status.stdout)
    }

    func testAnInterruptedRunIsCountedWholeAndANoOpRerunDoesNotHideIt() throws {
        let (s, p, err) = try startSlowRun("interrupt", signal: SIGINT)
        XCTAssertEqual(p.terminationStatus, 130)
        let stderr = try String(contentsOf: err, encoding: .utf8)
        XCTAssertTrue(stderr.contains("pipe: interrupted: 6 tasks finished, 0 cached, 6 not run; run again to resume"), stderr)
        XCTAssertFalse(stderr.contains("interrupted: interrupted"), stderr)
        let status = try s.tool("status", "$SPEC")
        XCTAssertTrue(status.stdout.contains("interrupted"), status.stdout)
        XCTAssertTrue(status.stdout.contains("12 tasks: 6 ran, 0 cached, 0 failed, 6 not run"), status.stdout)

        try s.runOK("--set", "stages.slow.ms=10")
        try s.runOK("--set", "stages.slow.ms=10")
        let after = try s.tool("status", "$SPEC")
        XCTAssertTrue(after.stdout.contains("last run ") && after.stdout.contains("0 ran, 12 cached"), after.stdout)
        XCTAssertTrue(after.stdout.contains("last run that ran tasks ") && after.stdout.contains("6 ran, 6 cached"), after.stdout)
    }
}
