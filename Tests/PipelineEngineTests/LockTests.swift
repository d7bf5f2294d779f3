import Foundation
import XCTest

/// End-to-end: the cache lock.
final class LockTests: XCTestCase {
    func makeSlowStudy(_ name: String, ms: Int) throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": \(ms)}}}
        """)
        return s
    }

    /// Waits until the lock file records a holder pid.
    func waitForHolder(_ s: Study, pid: Int32) {
        let lock = s.dir.appendingPathComponent("cache/lock")
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOf: lock, encoding: .utf8), text.contains("\"pid\":\(pid)") { return }
            usleep(10_000)
        }
        XCTFail("the run never took the lock")
    }

    /// Waits until `file` contains `text`.
    func waitForText(_ file: URL, _ text: String) {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let content = try? String(contentsOf: file, encoding: .utf8), content.contains(text) { return }
            usleep(10_000)
        }
        XCTFail("\(file.lastPathComponent) never said '\(text)'")
    }

    /// The first run cannot finish until the test creates its gate file, so the second run meets
    /// the lock whatever the machine's speed.
    func testSecondRunIsRefusedWhileTheFirstHoldsTheLock() throws {
        let s = try makeSlowStudy("lock", ms: 10)
        let gate = s.dir.appendingPathComponent("gate")
        let first = try ToolHarness.start(["run", s.spec.path, "--quiet", "--jobs", "1", "--set", "stages.slow.gate=\(gate.path)"], env: s.env)
        waitForHolder(s, pid: first.processIdentifier)
        let second = try s.tool("run", "$SPEC", "--quiet", "--set", "stages.slow.gate=\(gate.path)")
        XCTAssertEqual(second.status, 3)
        XCTAssertTrue(second.stderr.contains("is locked by pid \(first.processIdentifier) on "), second.stderr)
        XCTAssertTrue(second.stderr.contains("--wait"), second.stderr)
        // With --wait, the second run waits for the first, then finds everything cached.
        let log = s.dir.appendingPathComponent("waiting.log")
        let waiting = try ToolHarness.start(["run", s.spec.path, "--wait", "--set", "stages.slow.gate=\(gate.path)"], env: s.env, stderr: log)
        waitForText(log, "waiting for the cache lock held by pid \(first.processIdentifier)")
        XCTAssertTrue(first.isRunning, "the first run must still hold the lock")
        FileManager.default.createFile(atPath: gate.path, contents: nil)
        first.waitUntilExit()
        waiting.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        let waited = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(waiting.terminationStatus, 0, waited)
        XCTAssertTrue(waited.contains("0 ran, 4 cached"), waited)
    }

    func testStaleLockOfAKilledRunIsTakenOver() throws {
        let s = try makeSlowStudy("stale", ms: 5000)
        let first = try ToolHarness.start(["run", s.spec.path, "--quiet", "--jobs", "1"], env: s.env)
        waitForHolder(s, pid: first.processIdentifier)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let r = try s.tool("run", "$SPEC", "--set", "stages.slow.ms=10")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("took over a stale lock left by pid \(first.processIdentifier)"), r.stderr)
    }

    func testABusyFlockIsNeverTakenOverWhateverTheHolderRecordSays() throws {
        // The race: a run has just taken the flock but not yet rewritten the holder record, which
        // still names a process that is gone. The flock decides: the second run must be refused.
        let s = try makeSlowStudy("deadpid", ms: 10)
        let cache = s.dir.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let host = ProcessInfo.processInfo.hostName
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let lockPath = cache.appendingPathComponent("lock").path
        try "{\"pid\":\(dead.processIdentifier),\"host\":\"\(host)\",\"boot_id\":\"\(boot)\",\"started\":\"2020-01-01T00:00:00Z\"}\n"
            .write(toFile: lockPath, atomically: false, encoding: .utf8)
        // This test process holds the flock (as the first run would), without touching the record.
        let fd = open(lockPath, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let refused = try s.tool("run", "$SPEC", "--quiet")
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("is locked by"), refused.stderr)
        XCTAssertEqual(s.takeExecutions(), [], "nothing ran under a lock another process holds")
        XCTAssertTrue(FileManager.default.fileExists(atPath: lockPath))
        // Once the flock is released, the dead holder's record is reported as stale and the run goes on.
        close(fd)
        let r = try s.tool("run", "$SPEC")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("took over a stale lock left by pid \(dead.processIdentifier)"), r.stderr)
        XCTAssertEqual(s.takeExecutions().count, 4)
    }
}
