import Foundation
import XCTest

/// End-to-end: failures, --keep-going, --retries, and the worker executor.
final class FailureTests: XCTestCase {
    func makeStudy(_ name: String) throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"])
        try s.writeStandardSpec(subjects: ["01", "02", "03"])
        return s
    }

    func testKeepGoingRunsEverythingReadyAndReportsFailuresTogether() throws {
        let s = try makeStudy("keepgoing")
        let r = try s.tool("run", "$SPEC", "--keep-going", "--jobs", "2",
                           env: ["PIPE_TEST_FAIL": "sub-02_ses-1,sub-03_ses-2"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 tasks failed:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("scaled sub-02_ses-1: failing on purpose for sub-02_ses-1 (PIPE_TEST_FAIL)"), r.stderr)
        // The same error of another scan is reported once, with its scope, not repeated.
        XCTAssertTrue(r.stderr.contains("the same error in 1 more task of scaled: sub-03_ses-2"), r.stderr)
        let report = r.stderr.components(separatedBy: "pipe: failed:").last!
        XCTAssertFalse(report.contains("scaled sub-03_ses-2: failing on purpose"), report)
        // The failure names its log, which holds the error.
        let logs = r.stderr.split(separator: "\n").filter { $0.contains("log: ") }.map { String($0.split(separator: " ").last!) }
        XCTAssertEqual(logs.count, 1)
        for log in logs {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            XCTAssertTrue(text.contains("failing on purpose"), text)
        }
        let ex = s.takeExecutions()
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.read") }.count, 6)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.clamp") }.count, 4, "every task whose inputs are ready ran")
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.subject") }, ["test.subject sub-01"])
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.sum") }, [])

        let status = try s.tool("status", "$SPEC")
        XCTAssertTrue(status.stdout.contains("failed"), status.stdout)
        XCTAssertTrue(status.stdout.contains("FAILED scaled sub-02_ses-1"), status.stdout)

        // Fixing the cause: only the failed tasks and what they block run.
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.clamp sub-02_ses-1", "test.clamp sub-03_ses-2", "test.scale sub-02_ses-1",
                                            "test.scale sub-03_ses-2", "test.subject sub-02", "test.subject sub-03", "test.sum group"])
    }

    func testOutputsLeftFromAnEarlierRunAreListedWhileTheirTasksFail() throws {
        let s = try makeStudy("stale")
        try s.runOK()
        let out = s.dir.appendingPathComponent("out")
        let fm = FileManager.default
        // sub-02's input changes and its scaled task fails: its earlier outputs, and the group
        // total made from them, stay in out/ but are listed as left from an earlier run.
        try s.writeData("sub-02_ses-1.txt", "9 9 9 9\n")
        let r = try s.tool("run", "$SPEC", "--keep-going", "--quiet", env: ["PIPE_TEST_FAIL": "sub-02_ses-1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let scaledOld = try fm.contentsOfDirectory(atPath: out.appendingPathComponent("scaled").path).filter { $0.contains("sub-02_ses-1") && !$0.hasSuffix(".json") }
        XCTAssertFalse(scaledOld.isEmpty, "the earlier output is kept")
        let scaled = try String(contentsOf: out.appendingPathComponent("scaled/INCOMPLETE.txt"), encoding: .utf8)
        XCTAssertTrue(scaled.hasPrefix("Stage scaled is incomplete: 1 of its tasks have no result in the last run (failed, or not run because a task "
                                       + "they read failed): sub-02_ses-1."), scaled)
        for name in scaledOld { XCTAssertTrue(scaled.contains("\n  \(name)\n"), scaled) }
        XCTAssertFalse(scaled.contains("sub-01"), "files of tasks that ran are current: \(scaled)")
        let total = try String(contentsOf: out.appendingPathComponent("total/INCOMPLETE.txt"), encoding: .utf8)
        XCTAssertTrue(total.hasPrefix("Stage total is incomplete: 1 of its tasks have no result in the last run"), total)
        let totalFiles = try fm.contentsOfDirectory(atPath: out.appendingPathComponent("total").path).filter { $0 != "INCOMPLETE.txt" && !$0.hasSuffix(".json") }
        XCTAssertFalse(totalFiles.isEmpty)
        for name in totalFiles { XCTAssertTrue(total.contains("\n  \(name)\n"), total) }
        XCTAssertFalse(fm.fileExists(atPath: out.appendingPathComponent("raw/INCOMPLETE.txt").path), "raw is complete")
        // Once the task succeeds, the folders are complete and the files go.
        try s.runOK()
        for stage in ["scaled", "total"] {
            XCTAssertFalse(fm.fileExists(atPath: out.appendingPathComponent("\(stage)/INCOMPLETE.txt").path), stage)
        }
    }

    func testWithoutKeepGoingTheRunStopsStartingTasks() throws {
        let s = try makeStudy("stop")
        let r = try s.tool("run", "$SPEC", "--jobs", "1", env: ["PIPE_TEST_FAIL": "sub-01_ses-1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("scaled sub-01_ses-1: failing on purpose"), r.stderr)
        let ex = s.takeExecutions()
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.clamp") || $0.hasPrefix("test.subject") || $0.hasPrefix("test.sum") }, [])
    }

    func testRetriesRetryAFailedTask() throws {
        let s = try makeStudy("retries")
        let flaky = s.root.appendingPathComponent("flaky")
        try FileManager.default.createDirectory(at: flaky, withIntermediateDirectories: true)
        let failing = try s.tool("run", "$SPEC", "--quiet", env: ["PIPE_TEST_FAIL_ONCE_DIR": flaky.path])
        XCTAssertEqual(failing.status, 1)

        let s2 = try makeStudy("retries2")
        let flaky2 = s2.root.appendingPathComponent("flaky")
        try FileManager.default.createDirectory(at: flaky2, withIntermediateDirectories: true)
        let r = try s2.tool("run", "$SPEC", "--quiet", "--retries", "1", env: ["PIPE_TEST_FAIL_ONCE_DIR": flaky2.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(s2.takeExecutions().filter { $0.hasPrefix("test.scale") }.count, 12, "each scale task ran twice")
        let status = try s2.tool("status", "$SPEC")
        XCTAssertTrue(status.stdout.contains("6 retried attempts"), status.stdout)
    }

    func testWorkerExecutorRunsTasksFromTheCacheAlone() throws {
        let local = try makeStudy("local"), worker = try makeStudy("worker")
        try local.runOK()
        try worker.runOK("--executor", "worker", "--jobs", "2")
        XCTAssertEqual(try worker.outputs(), try local.outputs())
        XCTAssertEqual(worker.takeExecutions().count, 22)
        // Task descriptions were persisted before running.
        let specs = try FileManager.default.contentsOfDirectory(atPath: worker.dir.appendingPathComponent("cache/specs").path)
        XCTAssertEqual(specs.count, 22)
        // `pipe worker` re-executes a task given only the cache and the key, after its entry is removed.
        let key = String(specs.sorted()[0].dropLast(5))
        let entry = worker.dir.appendingPathComponent("cache/tasks/\(key)")
        let manifest = try Data(contentsOf: entry.appendingPathComponent("manifest.json"))
        try FileManager.default.removeItem(at: entry)
        let r = try worker.tool("worker", "--cache", worker.dir.appendingPathComponent("cache").path, key)
        XCTAssertEqual(r.status, 0, r.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: entry.appendingPathComponent("manifest.json"))) as! [String: Any]
        let before = try JSONSerialization.jsonObject(with: manifest) as! [String: Any]
        XCTAssertEqual(again["outputs"] as? NSArray, before["outputs"] as? NSArray)
        // A worker has its process to itself, so it records the task's CPU time (bounded by its
        // wall time on every core); a local run's threads share a process and record none.
        for m in [before, again] {
            let cpu = try XCTUnwrap(m["cpuSeconds"] as? Double, "a worker's manifest records cpuSeconds")
            let wall = try XCTUnwrap(m["seconds"] as? Double)
            XCTAssertTrue(cpu >= 0 && cpu <= wall * Double(ProcessInfo.processInfo.activeProcessorCount) + 0.05, "cpu \(cpu) s, wall \(wall) s")
        }
        let localEntries = try FileManager.default.contentsOfDirectory(atPath: local.dir.appendingPathComponent("cache/tasks").path)
        XCTAssertFalse(localEntries.isEmpty)
        for e in localEntries {
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: local.dir.appendingPathComponent("cache/tasks/\(e)/manifest.json"))) as! [String: Any]
            XCTAssertNil(m["cpuSeconds"], "a local task shares its process: no CPU time of its own")
        }
        let missing = try worker.tool("worker", "--cache", worker.dir.appendingPathComponent("cache").path, String(repeating: "0", count: 64))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no task description"), missing.stderr)
    }

    func testInterruptWithSigintExits130AndRerunCompletes() throws {
        let s = try Study("sigint")
        try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1"])
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02", "03"], "sessions": ["1"]},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "slow": {"kind": "test.slow", "from": "raw", "ms": 3000}}}
        """)
        let p = try ToolHarness.start(["run", s.spec.path, "--quiet", "--jobs", "1"], env: s.env)
        // Wait until a slow task has started, then interrupt.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !(s.takeExecutionsPeek().contains { $0.hasPrefix("test.slow") }) { usleep(20_000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.dir.appendingPathComponent("cache/tmp").path), [],
                       "an interrupted task leaves no temporary folder")
        let status = try s.tool("status", "$SPEC")
        XCTAssertTrue(status.stdout.contains("interrupted"), status.stdout)
        let r = try s.tool("run", "$SPEC", "--quiet", "--set", "stages.slow.ms=10")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testStatusGraphAndJournal() throws {
        let s = try makeStudy("status")
        try s.runOK()
        let status = try s.tool("status", "$SPEC")
        XCTAssertEqual(status.status, 0)
        XCTAssertTrue(status.stdout.contains(": finished in"), status.stdout)
        XCTAssertTrue(status.stdout.contains("22 tasks: 22 ran, 0 cached, 0 failed"), status.stdout)
        XCTAssertTrue(status.stdout.contains("scaled: 6 ran, 0 cached, 0 failed"), status.stdout)
        let journalDir = s.dir.appendingPathComponent("cache/journal")
        let journal = try FileManager.default.contentsOfDirectory(atPath: journalDir.path)
        XCTAssertEqual(journal.count, 1)
        let lines = try String(contentsOf: journalDir.appendingPathComponent(journal[0]), encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(events.filter { $0["event"] as? String == "planned" }.count, 22)
        XCTAssertEqual(events.filter { $0["event"] as? String == "started" }.count, 22)
        let finished = events.filter { $0["event"] as? String == "finished" }
        XCTAssertEqual(finished.count, 22)
        XCTAssertTrue(finished.allSatisfy { ($0["peakRSS"] as? Int ?? 0) > 0 && $0["seconds"] != nil })

        let dot = try s.tool("graph", "$SPEC", "--format", "dot")
        XCTAssertTrue(dot.stdout.contains("\"raw\" -> \"scaled\""), dot.stdout)
        XCTAssertTrue(dot.stdout.contains("test.sum (group, 1 task)"), dot.stdout)
        let mermaid = try s.tool("graph", "$SPEC", "--format", "mermaid")
        XCTAssertTrue(mermaid.stdout.hasPrefix("flowchart LR"), mermaid.stdout)
        XCTAssertTrue(mermaid.stdout.contains("subj --> total"), mermaid.stdout)
        let json = try s.tool("run", "$SPEC", "--json")
        let evs = json.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(evs.filter { $0["event"] as? String == "cached" }.count, 22)
        XCTAssertEqual(evs.last?["event"] as? String, "run-finished")
    }
}

extension Study {
    /// The execution log without clearing it.
    func takeExecutionsPeek() -> [String] {
        ((try? String(contentsOf: execLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
