import Foundation
import XCTest

/// End-to-end: a run that cannot create its task threads (a real RLIMIT_AS) fails at once with a
/// clear message, instead of waiting forever for a thread that never started.
final class ThreadLimitTests: XCTestCase {
    /// Address space left to the run above what it uses while it waits for the lock: room for
    /// allocations and Dispatch's own threads (1 MiB stacks under `ulimit -s 1024`), but not for one
    /// 8 MiB task-thread stack. Runs with 2–8 MiB all fail the same way.
    let headroomKB = 5 << 10

    func testRunFailsPromptlyWhenTaskThreadsCannotStart() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            throw XCTSkip("needs util-linux prlimit")
        }
        let s = try Study("thread-limit")
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "scaled": {"kind": "test.scale", "from": "raw", "factor": 2}}}
        """)
        // Hold the cache lock, so the run starts up fully and then waits with everything it needs
        // mapped: that is the moment to cap its address space.
        let cache = s.dir.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let lockFD = open(cache.appendingPathComponent("lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        XCTAssertGreaterThanOrEqual(lockFD, 0)
        defer { close(lockFD) }
        XCTAssertEqual(flock(lockFD, LOCK_EX), 0)

        let stderr = s.root.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/bin/sh")
        run.arguments = ["-c", "ulimit -s 1024 && exec \"$0\" \"$@\"", ToolHarness.executable.path,
                         "run", s.spec.path, "--wait", "--jobs", "2"]
        run.environment = ProcessInfo.processInfo.environment.merging(s.env) { $1 }
        run.standardInput = FileHandle.nullDevice
        run.standardOutput = FileHandle.nullDevice
        run.standardError = try FileHandle(forWritingTo: stderr)
        try run.run()
        defer { if run.isRunning { kill(run.processIdentifier, SIGKILL); run.waitUntilExit() } }
        let pid = run.processIdentifier
        XCTAssertTrue(ProcessWatch.poll(seconds: 30) {
            ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").contains("waiting for the cache lock")
        }, "the run never waited for the lock")
        let vmKB = try XCTUnwrap(ProcessWatch.statusKB(pid, "VmSize"))

        let limit = Process()
        limit.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        limit.arguments = ["--pid", String(pid), "--as=\((vmKB + headroomKB) * 1024)"]
        try limit.run()
        limit.waitUntilExit()
        XCTAssertEqual(limit.terminationStatus, 0)
        flock(lockFD, LOCK_UN)

        // The lock is polled every 200 ms; the first task then fails to start its thread.
        let started = Date()
        guard ProcessWatch.waitForExit(run, seconds: 20, "run under RLIMIT_AS") else { return }
        let text = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationReason, .exit, text)
        XCTAssertEqual(run.terminationStatus, 1, text)
        XCTAssertTrue(text.contains("cannot start 1 thread: "), text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
    }
}
