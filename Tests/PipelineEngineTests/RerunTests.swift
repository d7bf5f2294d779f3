import Foundation
import XCTest

/// End-to-end: what reruns after which edit (the built `pipe-testtool` binary).
final class RerunTests: XCTestCase {
    let subjects = ["01", "02", "03"]

    func makeStudy(_ name: String = "rerun") throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02", "03", "04"], sessions: ["1", "2"])
        try s.writeStandardSpec(subjects: subjects)
        return s
    }

    func testColdRunExecutesEveryTaskAndPublishesOutputs() throws {
        let s = try makeStudy()
        try s.runOK()
        let ex = s.takeExecutions()
        XCTAssertEqual(ex.count, 6 + 6 + 6 + 3 + 1)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.read ") }.count, 6)
        let outs = try s.outputs()
        XCTAssertEqual(outs.count, 22)
        // sub-01 ses-1 data "1 2 0 7" -> x2 -> "2\n4\n0\n14\n"
        XCTAssertEqual(String(decoding: outs["scaled/sub-01_ses-1.txt"]!, as: UTF8.self), "2\n4\n0\n14\n")
        XCTAssertTrue(String(decoding: outs["total/group.txt"]!, as: UTF8.self).hasSuffix("total 264\n"),
                      String(decoding: outs["total/group.txt"]!, as: UTF8.self))
    }

    func testNoOpRerunExecutesNothingAndReadsNoInputBytes() throws {
        let s = try makeStudy()
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().count, 22)
        let bytesRead = s.takeBytesRead()
        XCTAssertGreaterThan(bytesRead, 0)
        let first = try s.lastRunSummary()
        XCTAssertGreaterThan(first["bytesHashed"] as! Int, 0)
        XCTAssertEqual(first["sourceBytesRead"] as? Int, bytesRead, "the sizes of the executed tasks' source files")

        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [])
        XCTAssertEqual(s.takeBytesRead(), 0)
        let summary = try s.lastRunSummary()
        XCTAssertEqual(summary["executed"] as? Int, 0)
        XCTAssertEqual(summary["cached"] as? Int, 22)
        XCTAssertEqual(summary["bytesHashed"] as? Int, 0, "a no-op rerun must not hash any source byte")
        XCTAssertEqual(summary["sourceBytesRead"] as? Int, 0)

        let plan = try s.tool("plan", "$SPEC")
        XCTAssertEqual(plan.status, 0)
        XCTAssertTrue(plan.stdout.contains("22 tasks: 22 cached, 0 to run, 0 pending"), plan.stdout)
    }

    func testLargeInputIsNotReadOnNoOpRerun() throws {
        let s = try Study("large")
        var sizes = 0
        for (i, sub) in ["01", "02"].enumerated() {
            var bytes = [UInt8](repeating: 0, count: (6 << 20) + i * 12345)
            for j in stride(from: 0, to: bytes.count, by: 4096) { bytes[j] = UInt8(truncatingIfNeeded: j / 4096 + i) }
            try Data(bytes).write(to: s.dir.appendingPathComponent("data/sub-\(sub).bin"))
            sizes += bytes.count
        }
        try s.writeSpec("""
        {"pipe": 1, "cohort": {"subjects": ["01", "02"]},
         "stages": {"blob": {"kind": "test.digest", "pattern": "data/sub-{subject}.bin"}}}
        """)
        try s.runOK()
        XCTAssertEqual(s.takeBytesRead(), sizes)
        XCTAssertEqual(try s.lastRunSummary()["bytesHashed"] as? Int, sizes)
        XCTAssertEqual(s.takeExecutions().count, 2)

        try s.runOK()
        XCTAssertEqual(s.takeBytesRead(), 0)
        XCTAssertEqual(try s.lastRunSummary()["bytesHashed"] as? Int, 0, "the memo must serve the large files' digests")
        XCTAssertEqual(s.takeExecutions(), [])
    }

    func testTouchingAFileRerunsNothing() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        let file = s.dir.appendingPathComponent("data/sub-02_ses-1.txt")
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(3600)], ofItemAtPath: file.path)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [])
        // The digest was recomputed (new mtime), found identical, so no task ran.
        XCTAssertEqual(try s.lastRunSummary()["bytesHashed"] as? Int, size)
    }

    func testMovingOrCopyingTheStudyFolderRerunsNothing() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        _ = s.takeBytesRead()
        let moved = s.root.appendingPathComponent("moved-study")
        try FileManager.default.moveItem(at: s.dir, to: moved)
        var r = try s.tool("run", "$SPEC", "--quiet", spec: moved.appendingPathComponent("study.json"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(s.takeExecutions(), [])
        XCTAssertEqual(s.takeBytesRead(), 0)

        let copied = s.root.appendingPathComponent("copied-study")
        try FileManager.default.copyItem(at: moved, to: copied)
        r = try s.tool("run", "$SPEC", "--quiet", spec: copied.appendingPathComponent("study.json"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(s.takeExecutions(), [], "a copied study (new inodes) rehashes but reruns nothing")
        XCTAssertEqual(try s.outputs(in: copied.appendingPathComponent("out")), try s.outputs(in: moved.appendingPathComponent("out")))
    }

    func testChangingOneParameterRerunsExactlyItsDependentsAndPlanNamesIt() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        let plan = try s.tool("plan", "$SPEC", "--set", "stages.scaled.factor=3")
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let scaledLines = plan.stdout.split(separator: "\n").filter { $0.hasPrefix("scaled ") }
        XCTAssertEqual(scaledLines.count, 6)
        for l in scaledLines { XCTAssertTrue(l.contains("run") && l.contains("parameter changed: factor (2 -> 3)"), String(l)) }
        for l in plan.stdout.split(separator: "\n") where l.hasPrefix("raw ") { XCTAssertTrue(l.contains("cached"), String(l)) }
        XCTAssertTrue(plan.stdout.contains("6 cached, 6 to run, 10 pending"), plan.stdout)

        try s.runOK("--set", "stages.scaled.factor=3")
        let ex = s.takeExecutions()
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.read") }, [])
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.scale") }.count, 6)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.clamp") }.count, 6)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.subject") }.count, 3)
        XCTAssertEqual(ex.filter { $0.hasPrefix("test.sum") }.count, 1)
        XCTAssertEqual(ex.count, 16)

        // A parameter of the fan-in stage reruns only the fan-in.
        try s.runOK("--set", "stages.scaled.factor=3", "--set", "stages.total.title=\"sum\"")
        XCTAssertEqual(s.takeExecutions(), ["test.sum group"])
        let p2 = try s.tool("plan", "$SPEC", "--set", "stages.scaled.factor=3", "--set", "stages.total.title=other")
        XCTAssertTrue(p2.stdout.contains("parameter changed: title (\"sum\" -> \"other\")"), p2.stdout)
    }

    /// Two studies sharing a cache keep their own plan index: one study's run does not change
    /// the reason another's plan gives.
    func testStudiesSharingACacheKeepTheirOwnPlanReasons() throws {
        let s = try makeStudy()
        try s.runOK()
        try s.runOK("--set", "name=other", "--set", "outputs=out-other", "--set", "stages.scaled.factor=5")
        _ = s.takeExecutions()
        let plan = try s.tool("plan", "$SPEC", "--set", "stages.scaled.factor=3")
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("parameter changed: factor (2 -> 3)"), plan.stdout)
        let other = try s.tool("plan", "$SPEC", "--set", "name=other", "--set", "outputs=out-other", "--set", "stages.scaled.factor=3")
        XCTAssertTrue(other.stdout.contains("parameter changed: factor (5 -> 3)"), other.stdout)
    }

    func testChangingOneInputRerunsOnlyItsDependents() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        _ = s.takeBytesRead()
        try s.writeData("sub-02_ses-1.txt", "5 5 5 5\n")
        let plan = try s.tool("plan", "$SPEC", "--changed")
        XCTAssertTrue(plan.stdout.contains("raw  sub-02_ses-1  run") || plan.stdout.contains("raw      sub-02_ses-1  run"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("input changed: data ("), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("sub-02_ses-1.txt)"), plan.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.clamp sub-02_ses-1", "test.read sub-02_ses-1", "test.scale sub-02_ses-1",
                                            "test.subject sub-02", "test.sum group"])
        XCTAssertEqual(s.takeBytesRead(), 8, "only the changed file is read")
    }

    func testEarlyCutoffLeavesDownstreamCached() throws {
        let s = try makeStudy()
        try s.writeStandardSpec(subjects: subjects, clampMax: 1000)
        try s.runOK()
        _ = s.takeExecutions()
        let before = try s.outputs()
        // Every value is below 1000, so raising max changes no output byte.
        try s.writeStandardSpec(subjects: subjects, clampMax: 2000)
        let plan = try s.tool("plan", "$SPEC")
        XCTAssertTrue(plan.stdout.contains("parameter changed: max (1000 -> 2000)"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("upstream will run: clamped sub-01_ses-1, clamped sub-01_ses-2"), plan.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions().map { String($0.split(separator: " ")[0]) }, Array(repeating: "test.clamp", count: 6))
        let summary = try s.lastRunSummary()
        XCTAssertEqual(summary["executed"] as? Int, 6)
        XCTAssertEqual(summary["cached"] as? Int, 16)
        XCTAssertEqual(try s.outputs(), before)
    }

    func testNewStageVersionRerunsThatStage() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        let plan = try s.tool("plan", "$SPEC", "--changed", env: ["PIPE_TEST_CLAMP_VERSION": "2"])
        XCTAssertEqual(plan.stdout.split(separator: "\n").filter { $0.contains("stage version changed (1 -> 2)") }.count, 6, plan.stdout)
        try s.runOK(env: ["PIPE_TEST_CLAMP_VERSION": "2"])
        // Same output bytes from the new version: downstream stays cached (early cutoff).
        XCTAssertEqual(s.takeExecutions().map { String($0.split(separator: " ")[0]) }, Array(repeating: "test.clamp", count: 6))
        // A task planned for one version is refused by a worker of another.
        let key = try JSONSerialization.jsonObject(with: Data(s.tool("plan", "$SPEC", "--json").stdout.utf8)) as! [[String: Any]]
        let clampKey = key.first { $0["stage"] as? String == "clamped" }!["key"] as! String
        let cache = s.dir.appendingPathComponent("cache")
        try FileManager.default.removeItem(at: cache.appendingPathComponent("tasks/\(clampKey)"))
        let r = try s.tool("worker", "--cache", cache.path, clampKey, env: ["PIPE_TEST_CLAMP_VERSION": "3"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("kind 'test.clamp' is version 3 here, but the task was planned for version 1"), r.stderr)
    }

    func testAddingASubjectRunsOnlyItsTasksAndTheFanIns() throws {
        let s = try makeStudy()
        try s.runOK()
        _ = s.takeExecutions()
        try s.writeStandardSpec(subjects: ["01", "02", "03", "04"])
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), [
            "test.clamp sub-04_ses-1", "test.clamp sub-04_ses-2", "test.read sub-04_ses-1", "test.read sub-04_ses-2",
            "test.scale sub-04_ses-1", "test.scale sub-04_ses-2", "test.subject sub-04", "test.sum group",
        ])
        // Removing one subject reruns only the fan-in.
        try s.writeStandardSpec(subjects: ["01", "03", "04"])
        let plan = try s.tool("plan", "$SPEC", "--changed")
        XCTAssertTrue(plan.stdout.contains("upstream removed: subj sub-02"), plan.stdout)
        try s.runOK()
        XCTAssertEqual(s.takeExecutions(), ["test.sum group"])
        let outs = try s.outputs()
        XCTAssertNil(outs["subj/sub-02.txt"], "outputs of a removed subject are unpublished")
        XCTAssertNotNil(outs["subj/sub-04.txt"])
    }

    func testJobsOneAndFourGiveByteIdenticalOutputs() throws {
        let a = try Study("jobs1"), b = try Study("jobs4")
        let subs = (1...8).map { String(format: "%02d", $0) }
        for s in [a, b] {
            try s.writeScans(subjects: subs, sessions: ["1", "2"])
            try s.writeStandardSpec(subjects: subs)
        }
        try a.runOK("--jobs", "1")
        try b.runOK("--jobs", "4")
        let oa = try a.outputs(), ob = try b.outputs()
        XCTAssertEqual(oa.count, 16 * 3 + 8 + 1)
        XCTAssertEqual(oa, ob)
        // Same keys too: the caches hold the same entries.
        let ka = try FileManager.default.contentsOfDirectory(atPath: a.dir.appendingPathComponent("cache/tasks").path).sorted()
        let kb = try FileManager.default.contentsOfDirectory(atPath: b.dir.appendingPathComponent("cache/tasks").path).sorted()
        XCTAssertEqual(ka, kb)
    }

    func testPerScanKeysDoNotDependOnTheCohort() throws {
        let a = try Study("cohortA"), b = try Study("cohortB")
        for s in [a, b] { try s.writeScans(subjects: ["01", "02", "03"], sessions: ["1", "2"]) }
        try a.writeStandardSpec(subjects: ["01", "02"])
        try b.writeStandardSpec(subjects: ["02", "03"])
        for s in [a, b] { XCTAssertEqual(try s.tool("run", "$SPEC", "--quiet", "--json").status, 0) }
        func keys(_ s: Study, _ scope: String) throws -> [String] {
            let r = try s.tool("plan", "$SPEC", "--json")
            let items = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
            return items.filter { ($0["scope"] as! String).hasPrefix(scope) }.map { "\($0["stage"]!) \($0["key"]!)" }.sorted()
        }
        XCTAssertEqual(try keys(a, "sub-02"), try keys(b, "sub-02"))
        XCTAssertEqual(try keys(a, "sub-02").count, 7)
    }
}
